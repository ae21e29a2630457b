whistler::session! {
    pub struct S;
    /// Counts packets.
    (defmap m :type :array :key-size 4 :value-size 8 :max-entries 1)
}

fn main() {}
