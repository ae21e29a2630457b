whistler::session! {
    pub struct S;
    (bpf:map counts :type :hash :key-size 4 :value-size 8 :max-entrys 16)
}

fn main() {}
