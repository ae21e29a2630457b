//! Prints what `parse` makes of an ELF BPF object: `cargo run --example dump_object -- X.o`.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: dump_object FILE.o");
        std::process::exit(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    match whistler_object::parse(&bytes) {
        Ok(mut object) => {
            object.btf = object.btf.map(|b| b[..b.len().min(8)].to_vec());
            println!("{object:#?}");
        }
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    }
}
