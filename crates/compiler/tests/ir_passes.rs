//! Passes and the register allocator tested from IR text alone.

use whistler_compiler::ir::{parse::parse, print::to_text, verify::verify};
use whistler_compiler::opt;
use whistler_compiler::regalloc::{self, checker, Allocation, Loc};

fn run(text: &str, pass: fn(&mut whistler_compiler::ir::Function)) -> String {
    let mut f = parse(text).expect("parse");
    assert_eq!(verify(&f), Vec::<String>::new(), "input must verify");
    pass(&mut f);
    assert_eq!(verify(&f), Vec::<String>::new(), "output must verify");
    to_text(&f)
}

#[test]
fn const_fold_evaluates_and_makes_immediates() {
    let out = run(
        "function f\nblock0:\n  v0 = arg\n  v1 = iconst 6\n  v2 = iconst 7\n  v3 = mul v1, v2\n  v4 = add v0, v3\n  v5 = div v3, 0\n  v6 = add v2, v0\n  br gt v1, v2, block1, block2\nblock1:\n  return v4\nblock2:\n  return v5\n",
        opt::const_fold::run,
    );
    assert!(out.contains("v3 = iconst 42"), "{out}");
    assert!(out.contains("v4 = add v0, 42"), "{out}");
    assert!(
        out.contains("v5 = iconst 0"),
        "kernel semantics: x / 0 == 0\n{out}"
    );
    assert!(
        out.contains("v6 = add v0, 7"),
        "commutative ops put the constant second\n{out}"
    );
    assert!(
        out.contains("jump block2"),
        "constant branch becomes a jump\n{out}"
    );
}

#[test]
fn redundant_zext_keeps_only_extensions_that_clear_bits() {
    let out = run(
        "function f\nblock0:\n  v0 = arg\n  v1 = load.8 v0, 0\n  v2 = rsh v1, 32\n  v3 = zext32 v2\n  v4 = load.4 v0, 8\n  v5 = zext32 v4\n  v6 = rsh v1, 8\n  v7 = zext32 v6\n  v8 = add v3, v5\n  v9 = add v8, v7\n  return v9\n",
        opt::redundant_zext::run,
    );
    assert!(out.contains("v3 = copy v2"), "shifted right by 32\n{out}");
    assert!(out.contains("v5 = copy v4"), "a 4-byte load\n{out}");
    assert!(
        out.contains("v7 = zext32 v6"),
        "a shift by 8 keeps upper bits\n{out}"
    );
}

#[test]
fn redundant_zext_sees_through_joins_and_narrow_stores() {
    let out = run(
        "function f\n  ss0 = slot 8, align 8\nblock0:\n  v0 = arg\n  v1 = load.8 v0, 0\n  br eq v1, 0, block1, block2\nblock1:\n  v2 = iconst 1\n  jump block3(v2)\nblock2:\n  v3 = load.2 v0, 8\n  jump block3(v3)\nblock3(v4):\n  v5 = zext32 v4\n  v6 = zext32 v1\n  v7 = stack_addr ss0\n  store.4 v7, 0, v6\n  v8 = zext32 v1\n  store.4 v7, 4, v8\n  v9 = add v8, v5\n  return v9\n",
        opt::redundant_zext::run,
    );
    assert!(
        out.contains("v5 = copy v4"),
        "a join of 32-bit values\n{out}"
    );
    assert!(
        out.contains("v6 = copy v1"),
        "only stored in 4 bytes\n{out}"
    );
    assert!(
        out.contains("v8 = zext32 v1"),
        "also added in 64 bits\n{out}"
    );
}

#[test]
fn unused_read_only_helper_calls_go_with_their_key() {
    let text = "function f\n  ss0 = slot 4, align 4\n  ss1 = slot 8, align 8\n  maps m\nblock0:\n  v0 = stack_addr ss0\n  store.4 v0, 0, 7\n  v1 = map_fd 0\n  v2 = call 1(v1, v0)\n  v3 = call 5()\n  v4 = call 7()\n  v5 = stack_addr ss1\n  store.8 v5, 0, 0\n  store.4 v5, 0, 1\n  store.4 v5, 4, 2\n  v7 = iconst 0\n  v6 = call 2(v1, v0, v5, v7)\n  return 0\n";
    let out = run(text, |f| {
        opt::unused_helper_calls::run(f);
        opt::dead_code::run(f);
        opt::dead_stack_stores::run(f);
    });
    assert!(!out.contains("call 1("), "unused lookup\n{out}");
    assert!(!out.contains("call 5("), "unused ktime_get_ns\n{out}");
    assert!(out.contains("call 7("), "prandom is kept\n{out}");
    assert!(out.contains("call 2("), "an update writes a map\n{out}");
    assert!(
        out.contains("store.4 v0, 0, 7"),
        "the key is still read by the update\n{out}"
    );
    assert!(
        !out.contains("store.8 v5, 0, 0"),
        "overwritten before the call reads it\n{out}"
    );
}

#[test]
fn stores_to_a_slot_nothing_reads_are_dead() {
    let text = "function f\n  ss0 = slot 8, align 8\nblock0:\n  v0 = stack_addr ss0\n  store.8 v0, 0, 1\n  store.4 v0, 4, 2\n  return 0\n";
    let out = run(text, opt::dead_stack_stores::run);
    assert!(!out.contains("store"), "{out}");
}

#[test]
fn copy_propagation_resolves_long_chains() {
    let mut text = String::from("function f\nblock0:\n  v0 = arg\n");
    for i in 1..=10_000 {
        text += &format!("  v{i} = copy v{}\n", i - 1);
    }
    text += "  return v10000\n";
    let out = run(&text, opt::copy_propagation::run);
    assert!(out.ends_with("  return v0\n"), "{out}");
}

#[test]
fn copy_propagation_removes_trivial_params() {
    let out = run(
        "function f\nblock0:\n  v0 = arg\n  v1 = copy v0\n  br eq v1, 0, block1, block2\nblock1:\n  jump block3(v1)\nblock2:\n  jump block3(v0)\nblock3(v2):\n  return v2\n",
        opt::copy_propagation::run,
    );
    assert!(!out.contains("copy"), "{out}");
    assert!(out.contains("block3:\n  return v0"), "{out}");
}

#[test]
fn dead_code_removes_unused_chains_but_keeps_effects() {
    let out = run(
        "function f\n  ss0 = slot 8, align 8\nblock0:\n  v0 = iconst 1\n  v1 = add v0, 2\n  v2 = stack_addr ss0\n  store.8 v2, 0, 5\n  v3 = call 5()\n  return 0\n",
        opt::dead_code::run,
    );
    assert!(!out.contains("v1 ="), "{out}");
    assert!(!out.contains("v0 ="), "{out}");
    assert!(out.contains("store.8"), "{out}");
    assert!(
        out.contains("call 5"),
        "unused helper results still call\n{out}"
    );
}

#[test]
fn join_constants_pin_the_parameter_below_a_deciding_edge() {
    let join = "function f\nblock0:\n  v0 = arg\n  br gt v0, 100, block1, block2\nblock1:\n  v1 = iconst 1\n  jump block3(v1)\nblock2:\n  v2 = iconst 0\n  jump block3(v2)\nblock3(v3):\n  br ne v3, 0, block4, block5\nblock4:\n  v4 = add v3, 7\n  return v4\nblock5:\n  return v3\n";
    let out = run(join, opt::join_constants::run);
    assert!(
        out.contains("block4:\n  v5 = iconst 1\n  v4 = add v5, 7"),
        "only 1 passes `ne 0`\n{out}"
    );
    assert!(
        out.contains("block5:\n  v6 = iconst 0\n  return v6"),
        "only 0 fails it\n{out}"
    );
    // With the parameter no longer escaping, each predecessor jumps straight to its target.
    let mut f = parse(&out).expect("parse");
    opt::simplify_cfg::run(&mut f);
    opt::const_fold::run(&mut f);
    opt::simplify_cfg::run(&mut f);
    let text = to_text(&f);
    assert!(!text.contains("br ne"), "the join's test is gone\n{text}");
    // Two constants that both pass the test decide nothing.
    let both = join.replace("iconst 0", "iconst 2");
    assert_eq!(
        run(&both, opt::join_constants::run),
        to_text(&parse(&both).unwrap())
    );
}

#[test]
fn simplify_cfg_merges_and_threads() {
    let out = run(
        "function f\nblock0:\n  v0 = arg\n  jump block1\nblock1:\n  br eq v0, 0, block2, block3\nblock2:\n  jump block4\nblock3:\n  return v0\nblock4:\n  return 1\nblock5:\n  return 9\n",
        opt::simplify_cfg::run,
    );
    assert!(
        out.contains("block2:\n  return 1"),
        "block4 merges into its only predecessor\n{out}"
    );
    assert!(!out.contains("block4") && !out.contains("block1"), "{out}");
    assert!(!out.contains("block5"), "unreachable blocks go\n{out}");
    assert!(
        out.contains("block0:\n  v0 = arg\n  br eq v0, 0"),
        "block1 merges into block0\n{out}"
    );
}

#[test]
fn simplify_cfg_folds_a_branch_with_one_destination() {
    let out = run(
        "function f\nblock0:\n  v0 = arg\n  br eq v0, 0, block1, block2\nblock1:\n  jump block3\nblock2:\n  jump block3\nblock3:\n  return 1\n",
        opt::simplify_cfg::run,
    );
    assert_eq!(out, "function f\nblock0:\n  v0 = arg\n  return 1\n");
}

#[test]
fn verifier_rejects_broken_ir() {
    let f =
        parse("function f\nblock0:\n  v1 = add v0, 1\n  jump block1(v1)\nblock1:\n  return v1\n")
            .expect("parse");
    let errors = verify(&f);
    assert!(errors.iter().any(|e| e.contains("v0")), "{errors:?}");
    assert!(
        errors.iter().any(|e| e.contains("passes 1 arguments")),
        "{errors:?}"
    );
}

const CALLS: &str = "function f\n  ss0 = slot 8, align 8\nblock0:\n  v0 = arg\n  v1 = load.4 v0, 0\n  v2 = call 5()\n  v3 = add v1, v2\n  v4 = call 7()\n  v5 = add v3, v4\n  return v5\n";

#[test]
fn values_live_across_calls_get_callee_saved_registers() {
    let f = parse(CALLS).expect("parse");
    let alloc = regalloc::allocate(&f);
    checker::check(&f, &alloc).expect("allocation checks");
    let v1 = alloc
        .loc(whistler_compiler::ir::Value(1))
        .expect("allocated");
    assert!(matches!(v1, Loc::Reg(6..=9) | Loc::Stack(_)), "{v1:?}");
}

#[test]
fn join_arguments_share_the_parameter_register() {
    // A diamond whose arms pass different values: with lifetime holes neither argument is live
    // in the other arm, so both take the parameter's register and the jumps carry no moves.
    let f = parse("function f\nblock0:\n  v0 = arg\n  v1 = load.4 v0, 0\n  br gt v1, 9, block1, block2\nblock1:\n  v2 = load.4 v0, 4\n  jump block3(v2)\nblock2:\n  v3 = load.4 v0, 8\n  jump block3(v3)\nblock3(v4):\n  v5 = add v4, v1\n  v6 = call 6(v5)\n  return v6\n").expect("parse");
    let alloc = regalloc::allocate(&f);
    checker::check(&f, &alloc).expect("allocation checks");
    let loc = |v| alloc.loc(whistler_compiler::ir::Value(v));
    assert_eq!(loc(2), loc(4));
    assert_eq!(loc(3), loc(4));
    // The helper's argument is computed where the call wants it, its result used from R0.
    assert_eq!(loc(5), Some(Loc::Reg(1)));
    assert_eq!(loc(6), Some(Loc::Reg(0)));
}

#[test]
fn checker_catches_a_clobbered_value() {
    let f = parse(CALLS).expect("parse");
    let mut alloc: Allocation = regalloc::allocate(&f);
    // Move the value live across the first call into a caller-saved register.
    alloc.locs[1] = Some(Loc::Reg(2));
    let err = checker::check(&f, &alloc).expect_err("r2 is clobbered by the call");
    assert!(err.contains("v1"), "{err}");
}

#[test]
fn checker_catches_two_values_in_one_register() {
    let f = parse(
        "function f\nblock0:\n  v0 = iconst 1\n  v1 = iconst 2\n  v2 = add v0, v1\n  return v2\n",
    )
    .expect("parse");
    let mut alloc = regalloc::allocate(&f);
    alloc.locs[0] = Some(Loc::Reg(3));
    alloc.locs[1] = Some(Loc::Reg(3));
    assert!(checker::check(&f, &alloc).is_err());
}

const SWAP: &str = "function f\nblock0:\n  v0 = arg\n  v1 = load.8 v0, 0\n  v2 = load.8 v0, 8\n  jump block1(v2, v1)\nblock1(v3, v4):\n  v5 = sub v3, v4\n  return v5\n";

#[test]
fn checker_follows_the_moves_of_a_jump() {
    let f = parse(SWAP).expect("parse");
    let mut alloc = regalloc::allocate(&f);
    // A swap: arguments in r3/r4, parameters in r3/r4 (a cycle the moves break through r5).
    alloc.locs[1] = Some(Loc::Reg(3));
    alloc.locs[2] = Some(Loc::Reg(4));
    alloc.locs[3] = Some(Loc::Reg(3));
    alloc.locs[4] = Some(Loc::Reg(4));
    checker::check(&f, &alloc).expect("a swap checks");
    // Both parameters in one register: the second move overwrites the first, even though
    // nothing reads the overwritten parameter before the subtraction would.
    alloc.locs[4] = Some(Loc::Reg(3));
    let err = checker::check(&f, &alloc).expect_err("one register cannot hold two arguments");
    assert!(err.contains("jump to block1"), "{err}");
}

#[test]
fn register_pressure_spills_and_still_checks() {
    let mut text = String::from("function f\nblock0:\n");
    for i in 0..20 {
        text += &format!("  v{i} = iconst {i}\n");
    }
    text += "  v20 = call 5()\n";
    let mut last = 20;
    for i in 0..20 {
        text += &format!("  v{} = add v{last}, v{i}\n", 21 + i);
        last = 21 + i;
    }
    text += &format!("  return v{last}\n");
    let f = parse(&text).expect("parse");
    let alloc = regalloc::allocate(&f);
    checker::check(&f, &alloc).expect("allocation checks");
    assert!(alloc.spill_slots > 0);
}

#[test]
fn value_numbering_reuses_dominating_arithmetic() {
    let out = run(
        "function f\nblock0:\n  v0 = arg\n  v1 = add v0, 14\n  br eq v1, 0, block1, block2\nblock1:\n  v2 = add v0, 14\n  v3 = load.1 v2, 0\n  return v3\nblock2:\n  v4 = add v0, 14\n  v5 = add v0, 14\n  v6 = sub v4, v5\n  return v6\n",
        opt::value_numbering::run,
    );
    assert!(
        !out.contains("v2 =") && !out.contains("v4 =") && !out.contains("v5 ="),
        "{out}"
    );
    assert!(
        out.contains("v3 = load.1 v1, 0") && out.contains("v6 = sub v1, v1"),
        "{out}"
    );
}

#[test]
fn known_branches_decides_dominated_tests() {
    let out = run(
        "function f\nblock0:\n  v0 = arg\n  br lt v0, 16, block1, block2\nblock1:\n  br ge v0, 20, block3, block4\nblock2:\n  return 2\nblock3:\n  return 3\nblock4:\n  br lt v0, 16, block5, block6\nblock5:\n  return 5\nblock6:\n  return 6\n",
        opt::known_branches::run,
    );
    assert!(
        out.contains("block1:\n  jump block4"),
        "v0 < 16 implies v0 < 20\n{out}"
    );
    assert!(
        out.contains("block4:\n  jump block5"),
        "the same test again\n{out}"
    );
}

#[test]
fn address_folding_moves_constants_into_offsets() {
    let out = run(
        "function f\nblock0:\n  v0 = arg\n  v1 = add v0, 14\n  v2 = load.1 v1, 9\n  store.4 v1, -2, v2\n  return v2\n",
        opt::address_folding::run,
    );
    assert!(
        out.contains("v2 = load.1 v0, 23") && out.contains("store.4 v0, 12, v2"),
        "{out}"
    );
}

#[test]
fn byte_swapped_loads_compare_against_swapped_constants() {
    let out = run(
        "function f\nblock0:\n  v0 = arg\n  v1 = load.2 v0, 12\n  v2 = swap16 v1\n  br eq v2, 2048, block1, block2\nblock1:\n  return 1\nblock2:\n  return 2\n",
        opt::const_fold::run,
    );
    assert!(out.contains("br eq v1, 8, block1, block2"), "{out}");
}

#[test]
fn known_branches_threads_edges_into_decided_tests() {
    let out = run(
        "function f\nblock0:\n  v0 = arg\n  v1 = load.1 v0, 0\n  br ne v1, 6, block2, block1\nblock1:\n  v2 = load.1 v0, 1\n  br eq v2, 0, block3, block2\nblock2:\n  br ne v1, 6, block3, block4\nblock3:\n  return 2\nblock4:\n  return 4\n",
        opt::known_branches::run,
    );
    assert!(
        out.contains("br ne v1, 6, block3, block1"),
        "the v1 != 6 edge skips block2\n{out}"
    );
}

#[test]
fn kernel_values_are_not_folded_and_read_back_from_text() {
    let lines = [
        "v0 = kernel_value field-exists task_struct.__state 1",
        "v1 = kernel_value enumval-value pid_type::PIDTYPE_TGID 1",
        "v2 = kernel_value type-size task_struct 9792",
        "v3 = kernel_value field-byte-offset task_struct.tgid 1268",
    ];
    let text = format!(
        "function f\nblock0:\n  {}\n  v4 = add v0, v1\n  v5 = add v4, v2\n  v6 = add v5, v3\n  return v6\n",
        lines.join("\n  ")
    );
    let out = run(&text, opt::const_fold::run);
    for line in lines {
        assert!(out.contains(line), "{line} in\n{out}");
    }
    assert_eq!(to_text(&parse(&out).unwrap()), out);
}

#[test]
fn stack_forwarding_reads_back_what_was_stored() {
    let text = "function f\n  ss0 = slot 8, align 8\nblock0:\n  v0 = arg\n  v1 = load.1 v0, 0\n  v2 = and v1, 3\n  v3 = or v2, 184\n  v4 = stack_addr ss0\n  store.1 v4, 0, v3\n  v5 = load.1 v4, 0\n  v6 = load.8 v0, 8\n  store.1 v4, 0, v6\n  v7 = load.1 v4, 0\n  br eq v5, v7, block1, block2\nblock1:\n  v8 = load.1 v4, 0\n  return v8\nblock2:\n  v9 = call 7()\n  v10 = load.1 v4, 0\n  return v10\n";
    let out = run(text, opt::stack_forwarding::run);
    assert!(out.contains("v5 = copy v3"), "a byte that fits\n{out}");
    assert!(out.contains("v7 = and v6, 255"), "a wider value\n{out}");
    assert!(
        out.contains("v8 = and v6, 255"),
        "below a single predecessor\n{out}"
    );
    assert!(
        out.contains("v10 = load.1 v4, 0"),
        "a call may write the slot\n{out}"
    );
}

#[test]
fn shared_branches_jump_to_the_empty_block_with_the_same_test() {
    let text = "function f\nblock0:\n  v0 = arg\n  v1 = load.1 v0, 0\n  br eq v1, 0, block1, block2\nblock1:\n  v2 = load.1 v0, 1\n  store.1 v0, 2, v2\n  br eq v1, 8, block3, block4\nblock2:\n  br eq v1, 8, block3, block4\nblock3:\n  return 1\nblock4:\n  return 2\n";
    let out = run(text, opt::shared_branches::run);
    assert!(out.contains("store.1 v0, 2, v2\n  jump block2\n"), "{out}");
}

#[test]
fn bytes_no_helper_reads_are_not_zero_filled() {
    let text = "function f\n  ss0 = slot 8, align 8\nblock0:\n  v0 = arg\n  v1 = load.4 v0, 0\n  v2 = stack_addr ss0\n  store.8 v2, 0, 0\n  store.4 v2, 0, v1\n  v3 = map_fd q\n  v4 = iconst 0\n  v5 = call 87(v3, v2, v4)\n  return 0\n";
    let out = run(text, opt::dead_stack_stores::run);
    assert!(
        out.contains("store.8 v2, 0, 0"),
        "without the map's sizes the helper may read all 8 bytes\n{out}"
    );
    let out = run(text, |f| {
        f.map_sizes = vec![(0, 4)];
        opt::dead_stack_stores::run(f);
    });
    assert!(
        !out.contains("store.8"),
        "map_push_elem reads the 4-byte value only\n{out}"
    );
    assert!(out.contains("store.4 v2, 0, v1"), "{out}");
}

#[test]
fn a_buffer_a_helper_fills_needs_no_zero_fill() {
    let text = "function f\n  ss0 = slot 8, align 8\nblock0:\n  v0 = arg\n  v1 = stack_addr ss0\n  store.8 v1, 0, 0\n  v2 = iconst 9\n  v3 = iconst 1\n  v4 = call 26(v0, v2, v1, v3)\n  v5 = load.1 v1, 0\n  return v5\n";
    let out = run(text, opt::dead_stack_stores::run);
    assert!(
        !out.contains("store.8"),
        "skb_load_bytes writes the byte read next, even when it fails\n{out}"
    );
    let text = text.replace("load.1 v1, 0", "load.2 v1, 0");
    let out = run(&text, opt::dead_stack_stores::run);
    assert!(
        out.contains("store.8 v1, 0, 0"),
        "the second byte is the zero fill's\n{out}"
    );
}

#[test]
fn reassociation_moves_a_header_length_constant_into_the_uses() {
    let text = "function f\nblock0:\n  v0 = arg\n  v1 = load.4 v0, 0\n  v2 = load.1 v1, 14\n  v3 = and v2, 15\n  v4 = lsh v3, 2\n  v5 = add v4, 14\n  v6 = add v1, v5\n  v7 = add v6, 8\n  v8 = load.2 v6, 2\n  v9 = add v7, v8\n  return v9\n";
    let out = run(text, opt::reassociate::run);
    assert!(out.contains("v6 = add v1, v4"), "{out}");
    assert!(out.contains("v7 = add v6, 22"), "{out}");
    assert!(out.contains("v8 = load.2 v6, 16"), "{out}");
    // A use that needs the value itself keeps the constant where it was.
    let kept = text.replace("v9 = add v7, v8", "v9 = add v6, v8");
    let out = run(&kept, opt::reassociate::run);
    assert!(out.contains("v6 = add v1, v5"), "{out}");
}

#[test]
fn callback_addresses_read_back_from_text_and_survive_the_passes() {
    let text = "function f\n  ss0 = slot 32, align 8\n  maps m\nblock0:\n  v0 = arg\n  v1 = stack_addr ss0\n  store.8 v1, 24, v0\n  v2 = map_fd 0\n  v3 = func_addr 1\n  v4 = iconst 0\n  v5 = call 164(v2, v3, v1, v4)\n  return v5\n";
    let printed = to_text(&parse(text).expect("parse"));
    assert!(printed.contains("  v3 = func_addr 1\n"), "{printed}");
    assert_eq!(to_text(&parse(&printed).expect("parse")), printed);
    let out = run(text, opt::dead_stack_stores::run);
    let out = run(&out, opt::dead_code::run);
    assert!(out.contains("= func_addr 1\n"), "{out}");
    assert!(
        out.contains("store.8 "),
        "the record escapes to the helper:\n{out}"
    );
}

#[test]
fn context_loads_after_a_call_move_to_the_entry() {
    let text = "function f\n  ss0 = slot 8, align 8\n  maps m\nblock0:\n  v0 = arg\n  v1 = map_fd m\n  v2 = stack_addr ss0\n  store.4 v2, 0, 0\n  v9 = load.4 v0, 0\n  store.4 v2, 4, v9\n  v3 = call 1(v1, v2)\n  br ne v3, 0, block1, block2\nblock1:\n  v4 = load.4 v0, 0\n  v5 = load.4 v0, 0\n  v6 = add v4, v5\n  atomic_add.8 v3, 0, v6\n  jump block2\nblock2:\n  return 0\n";
    let out = run(text, opt::context_loads::run);
    assert!(
        out.contains("block0:\n  v0 = arg\n  v9 = load.4 v0, 0\n"),
        "the field is read before the call\n{out}"
    );
    assert!(
        !out.contains("v4 = load") && !out.contains("v5 = load"),
        "one load per field\n{out}"
    );
    assert!(out.contains("store.4 v2, 4, v9"), "{out}");
    assert!(out.contains("v6 = add v9, v9"), "{out}");
}

#[test]
fn relocated_member_loads_after_a_call_move_to_the_entry() {
    // A tracepoint record's member (a CO-RE relocated load) is hoisted like a fixed field.
    let text = "function f\n  ss0 = slot 8, align 8\n  maps m\nblock0:\n  v0 = arg\n  v1 = map_fd m\n  v2 = stack_addr ss0\n  store.4 v2, 0, 0\n  v3 = call 1(v1, v2)\n  br ne v3, 0, block1, block2\nblock1:\n  v4 = field_load.4 v0, rec.pid 8 signed\n  atomic_add.8 v3, 0, v4\n  jump block2\nblock2:\n  return 0\n";
    let out = run(text, opt::context_loads::run);
    assert!(
        out.contains("block0:\n  v0 = arg\n  v4 = field_load.4 v0, rec.pid 8 signed\n"),
        "the member is read before the call\n{out}"
    );
}

#[test]
fn context_loads_stay_when_a_helper_gets_the_context() {
    // `skb_change_tail(ctx, ...)` may change `len`: the later load must stay after the call.
    let text = "function f\nblock0:\n  v0 = arg\n  v1 = iconst 64\n  v2 = iconst 0\n  v3 = call 38(v0, v1, v2)\n  v4 = load.4 v0, 0\n  return v4\n";
    let out = run(text, opt::context_loads::run);
    assert!(
        out.contains("call 38(v0, v1, v2)\n  v4 = load.4 v0, 0\n"),
        "{out}"
    );
    // Two different fields read after a call would need two registers across it.
    let text = "function f\n  ss0 = slot 8, align 8\n  maps m\nblock0:\n  v0 = arg\n  v1 = map_fd m\n  v2 = stack_addr ss0\n  store.4 v2, 0, 0\n  v3 = call 1(v1, v2)\n  v4 = load.4 v0, 0\n  v5 = load.4 v0, 4\n  v6 = add v4, v5\n  return v6\n";
    let out = run(text, opt::context_loads::run);
    assert!(
        out.contains("v3 = call 1(v1, v2)\n  v4 = load.4 v0, 0\n"),
        "{out}"
    );
}

#[test]
fn int_return_drops_extensions_only_for_int_results() {
    let body = "block0:\n  v0 = arg\n  v1 = load.8 v0, 8\n  v2 = lsh v1, 32\n  v3 = arsh v2, 32\n  br eq v1, 0, block1, block2\nblock1:\n  v4 = zext32 v1\n  return v4\nblock2:\n  return v3\n";
    let out = run(
        &format!("function f\n  returns int\n{body}"),
        opt::int_return::run,
    );
    assert!(
        out.contains("block1:\n  v4 = zext32 v1\n  return v1\n"),
        "{out}"
    );
    assert!(out.contains("block2:\n  return v1\n"), "{out}");
    // Elsewhere the upper bits of the result are read: the extensions stay.
    let out = run(&format!("function f\n{body}"), opt::int_return::run);
    assert!(
        out.contains("return v4") && out.contains("return v3"),
        "{out}"
    );
}

#[test]
fn adjacent_copies_merge_into_one_wide_copy() {
    // Packet (context field 0) to a ring-buffer record: two 4-byte copies become one 8-byte
    // copy, and four 1-byte copies into a stack slot become one 4-byte copy.
    let text = "function f\n  ss0 = slot 8, align 8\n  packet fields 0\nblock0:\n  v0 = arg\n  v1 = load.4 v0, 0\n  v2 = map_fd q\n  v3 = iconst 0\n  v4 = iconst 12\n  v5 = call 131(v2, v4, v3)\n  v6 = load.4 v1, 26\n  store.4 v5, 0, v6\n  v7 = load.4 v1, 30\n  store.4 v5, 4, v7\n  v8 = stack_addr ss0\n  v9 = load.1 v1, 14\n  store.1 v8, 4, v9\n  v10 = load.1 v1, 15\n  store.1 v8, 5, v10\n  v11 = load.1 v1, 16\n  store.1 v8, 6, v11\n  v12 = load.1 v1, 17\n  store.1 v8, 7, v12\n  return v5\n";
    let out = run(text, opt::merged_copies::run);
    assert!(
        out.contains("v6 = load.8 v1, 26\n  store.8 v5, 0, v6\n"),
        "{out}"
    );
    assert!(!out.contains("v7 ="), "{out}");
    assert!(
        out.contains("v9 = load.4 v1, 14\n  store.4 v8, 4, v9\n"),
        "{out}"
    );
}

#[test]
fn copies_stay_apart_when_merging_could_change_them() {
    let keep = |text: &str, why: &str| {
        let out = run(text, opt::merged_copies::run);
        assert!(!out.contains("store.8"), "{why}\n{out}");
    };
    // Context fields must be read at their own size.
    keep(
        "function f\n  ss0 = slot 8, align 8\nblock0:\n  v0 = arg\n  v1 = stack_addr ss0\n  v2 = load.4 v0, 0\n  store.4 v1, 0, v2\n  v3 = load.4 v0, 4\n  store.4 v1, 4, v3\n  return 0\n",
        "a context pointer",
    );
    // Without `packet fields`, a pointer loaded from the context may be a kernel struct's.
    keep(
        "function f\n  ss0 = slot 8, align 8\nblock0:\n  v0 = arg\n  v1 = load.8 v0, 0\n  v2 = stack_addr ss0\n  v3 = load.4 v1, 0\n  store.4 v2, 0, v3\n  v4 = load.4 v1, 4\n  store.4 v2, 4, v4\n  return 0\n",
        "a pointer into unknown memory",
    );
    // The stack wants aligned accesses: bytes 4..12 of a slot are not an aligned u64.
    keep(
        "function f\n  ss0 = slot 16, align 8\n  packet fields 0\nblock0:\n  v0 = arg\n  v1 = load.4 v0, 0\n  v2 = stack_addr ss0\n  v3 = load.4 v1, 0\n  store.4 v2, 4, v3\n  v4 = load.4 v1, 4\n  store.4 v2, 8, v4\n  return 0\n",
        "a misaligned stack store",
    );
    // Two map values may be the same bytes: the second load must see the first store.
    keep(
        "function f\n  packet fields 0\nblock0:\n  v0 = map_fd q\n  v1 = arg\n  v2 = call 1(v0, v1)\n  v3 = call 1(v0, v1)\n  v4 = load.4 v2, 0\n  store.4 v3, 0, v4\n  v5 = load.4 v2, 4\n  store.4 v3, 4, v5\n  return 0\n",
        "two map values",
    );
    // Within one slot, a copy whose first store overwrites what the second load reads.
    keep(
        "function f\n  ss0 = slot 16, align 8\nblock0:\n  v0 = stack_addr ss0\n  v1 = load.4 v0, 0\n  store.4 v0, 4, v1\n  v2 = load.4 v0, 4\n  store.4 v0, 8, v2\n  return 0\n",
        "an overlapping copy",
    );
    // A call between the copies may write either side.
    keep(
        "function f\n  ss0 = slot 8, align 8\n  packet fields 0\nblock0:\n  v0 = arg\n  v1 = load.4 v0, 0\n  v2 = stack_addr ss0\n  v3 = load.4 v1, 0\n  store.4 v2, 0, v3\n  v4 = call 5()\n  v5 = load.4 v1, 4\n  store.4 v2, 4, v5\n  return v4\n",
        "a call in between",
    );
}

#[test]
fn sign_tests_between_constants_one_apart_become_shifts() {
    let select = |text: &str| run(text, opt::sign_select::run);
    // map_push_elem (87) returns 0 or a negative error: `== 0` is a sign test.
    let out = select("function f\nblock0:\n  v0 = map_fd q\n  v1 = arg\n  v2 = iconst 0\n  v3 = call 87(v0, v1, v2)\n  br eq v3, 0, block1, block2\nblock1:\n  return 2\nblock2:\n  return 1\n");
    assert!(
        out.contains("v4 = arsh v3, 63\n  v5 = add v4, 2\n  return v5\n"),
        "{out}"
    );
    // Any value's sign, the larger constant on the negative side.
    let out = select("function f\nblock0:\n  v0 = arg\n  v1 = load.8 v0, 0\n  br slt v1, 0, block1, block2\nblock1:\n  return 1\nblock2:\n  return 0\n");
    assert!(out.contains("v2 = rsh v1, 63\n  return v2\n"), "{out}");
    let keep = |text: &str, why: &str| {
        let out = select(text);
        assert!(!out.contains("sh v"), "{why}\n{out}");
    };
    keep(
        "function f\nblock0:\n  v0 = arg\n  v1 = load.8 v0, 0\n  br eq v1, 0, block1, block2\nblock1:\n  return 2\nblock2:\n  return 1\n",
        "a loaded value may be positive",
    );
    keep(
        "function f\nblock0:\n  v0 = arg\n  v1 = load.8 v0, 0\n  br slt v1, 0, block1, block2\nblock1:\n  return 3\nblock2:\n  return 1\n",
        "constants two apart",
    );
    keep(
        "function f\nblock0:\n  v0 = arg\n  v1 = load.8 v0, 0\n  br slt v1, 0, block1, block2\nblock1:\n  return -2147483648\nblock2:\n  return 2147483647\n",
        "constants at the ends of the 32-bit range",
    );
    keep(
        "function f\nblock0:\n  v0 = arg\n  v1 = load.8 v0, 0\n  br eq v1, 7, block3, block4\nblock3:\n  return 1\nblock4:\n  br slt v1, 0, block1, block2\nblock1:\n  return 1\nblock2:\n  return 0\n",
        "a constant another block returns too",
    );
}

#[test]
fn field_loads_read_back_from_text_and_never_read_the_stack() {
    let text = "function f\nblock0:\n  v0 = arg\n  v1 = field_load.2 v0, task.prio 40 signed\n  v2 = field_load.8 v0, task.flags 32\n  v3 = add v1, v2\n  return v3\n";
    let out = run(text, opt::const_fold::run);
    assert_eq!(out, text);
    let stack = "function f\n  ss0 = slot 8, align 8\nblock0:\n  v0 = stack_addr ss0\n  v1 = field_load.4 v0, task.pid 8\n  return v1\n";
    let errors = verify(&parse(stack).unwrap());
    assert_eq!(errors, ["field load through the stack address v0"]);
    for bad in [
        "field_load.3 v0, task.pid 8",
        "field_load.4 v0, task.pid 8 maybe",
    ] {
        let text = format!("function f\nblock0:\n  v0 = arg\n  v1 = {bad}\n  return v1\n");
        assert!(parse(&text).is_err(), "{bad}");
    }
}
