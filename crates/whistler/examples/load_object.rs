//! The loader as a library, without sessions: load an object's bytes, run its packet program once
//! with BPF_PROG_TEST_RUN, read its map and attach it. The bytes are those `session!` compiled,
//! or the object file given as the first argument (ours or clang's, with a `count_all` XDP
//! program and a `hits` array map).
//!
//! `cargo run --example load_object -- [OBJECT.bpf.o]` (as root).

whistler::session! {
    pub struct Counter;
    (bpf:map hits :type :array :key-size 4 :value-size 8 :max-entries 1)
    (bpf:prog count-all (:type :xdp :license "GPL")
      (incf (getmap hits 0))
      XDP_PASS)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bytes = match std::env::args().nth(1) {
        Some(path) => std::fs::read(path)?,
        None => Counter::OBJECT.to_vec(),
    };
    // ANCHOR: loader
    use whistler::loader::attach::{AttachTarget, InterfaceMode};
    use whistler::loader::{LoadOptions, Object, TestRun, TypedMap};

    let object = Object::load(&bytes, &LoadOptions::default())?;

    // Run the packet program once in the kernel on 64 zero bytes.
    let program = object.program("count_all").ok_or("no program count_all")?;
    let packet = [0u8; 64];
    let run = TestRun {
        data_in: &packet,
        repeat: 1,
        ..TestRun::default()
    };
    let out = program.test_run(run)?;
    println!("count_all returned {} (XDP_PASS is 2)", out.retval);

    // Read its map, typed.
    let hits: TypedMap<u32, u64, _> = TypedMap::new(object.map("hits").ok_or("no map hits")?)?;
    println!("hits[0] = {}", hits.get(&0)?.unwrap_or(0));

    // Attach it to the loopback interface; the attachment lasts while `link` lives.
    let target = AttachTarget::Interface {
        name: "lo".into(),
        mode: InterfaceMode::default(),
    };
    let link = program.attach(target)?;
    println!("attached to lo as {:?}", link.kind());
    drop(link);
    // ANCHOR_END: loader
    Ok(())
}
