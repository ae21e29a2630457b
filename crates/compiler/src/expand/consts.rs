//! Compile-time evaluation of constant expressions: literals, `defconstant` names, kernel
//! constants, `sizeof` and integer arithmetic on them.

use super::{form_name, head_symbol, symbol_name, Env};
use crate::diag::{error, with_suggestion};
use whistler_syntax::{Diagnostic, Sexp, SexpKind};

/// Checks that an integer literal fits in 64 bits (signed or unsigned) and returns its bits.
pub fn literal(value: i128, form: &Sexp) -> Result<i64, Diagnostic> {
    if value < i64::MIN as i128 || value > u64::MAX as i128 {
        return Err(error(
            form.span,
            format!("integer literal {value} does not fit in 64 bits"),
        )
        .with_help("BPF registers hold 64 bits: use a value between -2^63 and 2^64-1"));
    }
    Ok(value as i64)
}

/// Looks a constant name up: `defconstant`s first, then the kernel's named constants.
pub fn named(env: &Env, name: &str) -> Option<i64> {
    match name {
        "t" => return Some(1),
        "nil" => return Some(0),
        _ => {}
    }
    env.constants
        .get(name)
        .copied()
        .or_else(|| whistler_bpf::consts::by_name(name))
        .or_else(|| {
            PROTOCOL_CONSTANTS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| *v)
        })
        .or_else(|| more_kernel_constants(name))
}

/// Kernel constants the shared table (`whistler_bpf::consts`) does not list yet, matched like
/// it: case-insensitively, `-` for `_`, optionally as `+name+`.
fn more_kernel_constants(name: &str) -> Option<i64> {
    const MORE: &[(&str, i64)] = &[
        ("ETH_HLEN", 14),
        ("ETH_ALEN", 6),
        ("ETH_P_ALL", 3),
        ("IPPROTO_IP", 0),
        ("IPPROTO_IPIP", 4),
        ("IPPROTO_IPV6", 41),
        ("IPPROTO_GRE", 47),
        ("IPPROTO_ESP", 50),
        ("IPPROTO_SCTP", 132),
        ("BPF_F_RECOMPUTE_CSUM", 1),
        ("BPF_F_INVALIDATE_HASH", 2),
        ("BPF_F_HDR_FIELD_MASK", 15),
        ("BPF_F_PSEUDO_HDR", 16),
        ("BPF_F_MARK_MANGLED_0", 32),
        ("BPF_F_MARK_ENFORCE", 64),
        ("BPF_SK_LOOKUP_F_REPLACE", 1),
        ("BPF_SK_LOOKUP_F_NO_REUSEPORT", 2),
        ("BPF_SOCK_OPS_TIMEOUT_INIT", 1),
        ("BPF_SOCK_OPS_RWND_INIT", 2),
        ("BPF_SOCK_OPS_NEEDS_ECN", 6),
        ("BPF_SOCK_OPS_BASE_RTT", 7),
        ("BPF_SOCK_OPS_RTO_CB", 8),
        ("BPF_SOCK_OPS_RETRANS_CB", 9),
        ("BPF_SOCK_OPS_STATE_CB", 10),
        ("BPF_SOCK_OPS_TCP_LISTEN_CB", 11),
        ("PACKET_HOST", 0),
        ("PACKET_BROADCAST", 1),
        ("PACKET_MULTICAST", 2),
        ("PACKET_OTHERHOST", 3),
    ];
    let name = name
        .strip_prefix('+')
        .and_then(|n| n.strip_suffix('+'))
        .unwrap_or(name);
    let norm = name.to_ascii_uppercase().replace('-', "_");
    MORE.iter().find(|(n, _)| *n == norm).map(|(_, v)| *v)
}

/// The protocol library's documented constants (Whistler manual, "Protocol constants").
const PROTOCOL_CONSTANTS: &[(&str, i64)] = &[
    ("+ethertype-ipv4+", 0x0800),
    ("+ethertype-ipv6+", 0x86dd),
    ("+ethertype-arp+", 0x0806),
    ("+ethertype-vlan+", 0x8100),
    ("+ipv6-hdr-len+", 40),
    ("+icmp-hdr-len+", 8),
    ("+ip-proto-ipv6-icmp+", 58),
    ("+eth-hdr-len+", 14),
    ("+ipv4-hdr-len+", 20),
    ("+tcp-hdr-len+", 20),
    ("+udp-hdr-len+", 8),
    ("+ip-proto-icmp+", 1),
    ("+ip-proto-tcp+", 6),
    ("+ip-proto-udp+", 17),
    ("+tcp-fin+", 0x01),
    ("+tcp-syn+", 0x02),
    ("+tcp-rst+", 0x04),
    ("+tcp-psh+", 0x08),
    ("+tcp-ack+", 0x10),
    ("+tcp-urg+", 0x20),
];

/// Evaluates a constant expression.
pub fn eval(env: &Env, form: &Sexp) -> Result<i64, Diagnostic> {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, || eval_inner(env, form))
}

fn eval_inner(env: &Env, form: &Sexp) -> Result<i64, Diagnostic> {
    match &form.kind {
        SexpKind::Int(v) => literal(*v, form),
        SexpKind::Char(c) => Ok(*c as i64),
        SexpKind::Symbol(_) => {
            let name = symbol_name(form).unwrap_or("");
            named(env, name).ok_or_else(|| {
                with_suggestion(
                    error(form.span, format!("`{name}` is not a constant")),
                    name,
                    env.constants.keys().map(String::as_str),
                )
            })
        }
        SexpKind::List(items) if !items.is_empty() => eval_call(env, form, items),
        _ => Err(error(form.span, "expected a constant integer expression")),
    }
}

fn eval_call(env: &Env, form: &Sexp, items: &[Sexp]) -> Result<i64, Diagnostic> {
    let op = head_symbol(form).and_then(form_name).unwrap_or("");
    if op == "sizeof" {
        return sizeof(env, form, items);
    }
    let args = items[1..]
        .iter()
        .map(|a| eval(env, a))
        .collect::<Result<Vec<i64>, _>>()?;
    let fold = |init: i64, f: fn(i64, i64) -> i64| args.iter().fold(init, |a, b| f(a, *b));
    let first = args.first().copied();
    Ok(match (op, args.len()) {
        ("+", _) => fold(0, i64::wrapping_add),
        ("*", _) => fold(1, i64::wrapping_mul),
        ("-", 1) => first.unwrap_or(0).wrapping_neg(),
        ("-", n) if n > 1 => args[1..]
            .iter()
            .fold(args[0], |a, b| a.wrapping_sub(*b)),
        ("logand", _) => fold(-1, |a, b| a & b),
        ("logior", _) => fold(0, |a, b| a | b),
        ("logxor", _) => fold(0, |a, b| a ^ b),
        ("lognot", 1) => !args[0],
        ("/" | "floor" | "truncate", 2) | ("mod" | "rem", 2) if args[1] == 0 => {
            return Err(error(form.span, "division by zero in a constant expression"))
        }
        ("/" | "floor" | "truncate", 2) => ((args[0] as u64) / (args[1] as u64)) as i64,
        ("mod" | "rem", 2) => ((args[0] as u64) % (args[1] as u64)) as i64,
        ("<<", 2) => args[0].wrapping_shl(args[1] as u32),
        (">>", 2) => ((args[0] as u64).wrapping_shr(args[1] as u32)) as i64,
        ("ash", 2) if args[1] >= 0 => args[0].wrapping_shl(args[1] as u32),
        ("ash", 2) => args[0].wrapping_shr((-args[1]) as u32),
        ("1+", 1) => args[0].wrapping_add(1),
        ("1-", 1) => args[0].wrapping_sub(1),
        ("min", n) if n > 0 => *args.iter().min().unwrap_or(&0),
        ("max", n) if n > 0 => *args.iter().max().unwrap_or(&0),
        _ => {
            return Err(error(
                form.span,
                format!("`{}` cannot be evaluated at compile time", if op.is_empty() { form.to_string() } else { op.to_string() }),
            )
            .with_help("constant expressions may use integers, constants, sizeof, + - * / mod, logand logior logxor lognot, ash << >>"))
        }
    })
}

fn sizeof(env: &Env, form: &Sexp, items: &[Sexp]) -> Result<i64, Diagnostic> {
    let [_, name] = items else {
        return Err(error(form.span, "`sizeof` takes one struct or type name"));
    };
    let n = symbol_name(name).unwrap_or("");
    if let Some(ty) = crate::ast::Ty::from_name(n) {
        return Ok(ty.size() as i64);
    }
    match env.struct_index.get(n) {
        Some(&i) => Ok(env.structs[i].size as i64),
        None => Err(with_suggestion(
            error(name.span, format!("unknown struct `{n}`")),
            n,
            env.structs.iter().map(|s| s.name.as_str()),
        )),
    }
}
