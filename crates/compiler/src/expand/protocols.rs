//! The protocol library of Whistler's manual as built-in fallbacks (a macro host that defines
//! the same names takes precedence): header accessors (`eth-type`, `ipv4-protocol`,
//! `tcp-dst-port`...; network-order fields byte-swapped), the statement-style parsers
//! `with-packet`, `with-eth`, `with-ipv4`, `with-tcp`, `with-udp` (XDP: early `XDP_PASS`) and
//! `with-tc-*` (tc: early `TC_ACT_OK`), the expression-style `parse-eth`, `parse-ipv4`,
//! `parse-tcp`, `parse-udp` (pointer or 0), `tc-data`, `tc-data-end`, `kernel-load`,
//! `struct-alloc`, `setmap`, `delmap`, `do-user-ptrs` and `do-user-array`. Each expands to ordinary forms.

use super::body::Expander;
use crate::ast::Expr;
use whistler_syntax::{Sexp, SexpKind, Span, Symbol};

/// (accessor, offset, type, network byte order)
const FIELDS: &[(&str, i64, &str, bool)] = &[
    ("eth-dst-mac-hi", 0, "u32", false),
    ("eth-dst-mac-lo", 4, "u16", false),
    ("eth-src-mac-hi", 6, "u32", false),
    ("eth-src-mac-lo", 10, "u16", false),
    ("eth-type", 12, "u16", true),
    ("ipv4-ver-ihl", 0, "u8", false),
    ("ipv4-tos", 1, "u8", false),
    ("ipv4-total-len", 2, "u16", true),
    ("ipv4-id", 4, "u16", true),
    ("ipv4-frag-off", 6, "u16", true),
    ("ipv4-ttl", 8, "u8", false),
    ("ipv4-protocol", 9, "u8", false),
    ("ipv4-checksum", 10, "u16", false),
    ("ipv4-src-addr", 12, "u32", false),
    ("ipv4-dst-addr", 16, "u32", false),
    ("ipv6-ver-tc-flow", 0, "u32", true),
    ("ipv6-payload-len", 4, "u16", true),
    ("ipv6-nexthdr", 6, "u8", false),
    ("ipv6-hop-limit", 7, "u8", false),
    ("ipv6-src-addr-hi", 8, "u64", false),
    ("ipv6-src-addr-lo", 16, "u64", false),
    ("ipv6-dst-addr-hi", 24, "u64", false),
    ("ipv6-dst-addr-lo", 32, "u64", false),
    ("icmp-type", 0, "u8", false),
    ("icmp-code", 1, "u8", false),
    ("icmp-checksum", 2, "u16", false),
    ("icmp-rest", 4, "u32", false),
    ("tcp-src-port", 0, "u16", true),
    ("tcp-dst-port", 2, "u16", true),
    ("tcp-seq", 4, "u32", true),
    ("tcp-ack-seq", 8, "u32", true),
    ("tcp-data-off", 12, "u8", false),
    ("tcp-flags", 13, "u8", false),
    ("tcp-window", 14, "u16", true),
    ("tcp-checksum", 16, "u16", false),
    ("tcp-urgent", 18, "u16", true),
    ("udp-src-port", 0, "u16", true),
    ("udp-dst-port", 2, "u16", true),
    ("udp-length", 4, "u16", true),
    ("udp-checksum", 6, "u16", false),
];

const ETH: i64 = 14;
const IPV4: i64 = 20;
const TCP: i64 = 20;
const UDP: i64 = 8;

/// Every name this module handles (for suggestions).
pub fn names() -> impl Iterator<Item = &'static str> {
    FIELDS.iter().map(|f| f.0).chain([
        "with-packet",
        "with-eth",
        "with-ipv4",
        "with-tcp",
        "with-udp",
        "with-tc-packet",
        "with-tc-eth",
        "with-tc-ipv4",
        "with-tc-tcp",
        "with-tc-udp",
        "parse-eth",
        "parse-ipv4",
        "parse-tcp",
        "parse-udp",
        "tc-data",
        "tc-data-end",
        "kernel-load",
        "struct-alloc",
        "setmap",
        "delmap",
    ])
}

/// Builds s-expressions carrying one span.
struct B(Span);
impl B {
    fn sym(&self, n: &str) -> Sexp {
        Sexp {
            kind: SexpKind::Symbol(Symbol::new(n)),
            span: self.0,
        }
    }
    fn int(&self, v: i64) -> Sexp {
        Sexp {
            kind: SexpKind::Int(v as i128),
            span: self.0,
        }
    }
    fn list(&self, items: Vec<Sexp>) -> Sexp {
        Sexp {
            kind: SexpKind::List(items),
            span: self.0,
        }
    }
    fn call(&self, head: &str, args: Vec<Sexp>) -> Sexp {
        let mut items = vec![self.sym(head)];
        items.extend(args);
        self.list(items)
    }
}

impl Expander<'_> {
    pub(super) fn protocol_form(&mut self, form: &Sexp, name: &str, args: &[Sexp]) -> Option<Expr> {
        let b = B(form.span);
        if let Some(&(acc, off, ty, net)) = FIELDS.iter().find(|f| f.0 == name) {
            if !self.arity(form, acc, args, 1, 1) {
                return Some(Expr::int(0, form.span));
            }
            let load = b.call("load", vec![b.sym(ty), args[0].clone(), b.int(off)]);
            let swap = match (net, ty) {
                (true, "u16") => Some("ntohs"),
                (true, "u32") => Some("ntohl"),
                _ => None,
            };
            let expanded = match swap {
                Some(s) => b.call(s, vec![load]),
                None => load,
            };
            return Some(self.expr(&expanded));
        }
        let expanded = match name {
            "tc-data" => b.call("ctx", vec![b.sym("u32"), b.int(76)]),
            "tc-data-end" => b.call("ctx", vec![b.sym("u32"), b.int(80)]),
            "struct-alloc" => {
                let size = args.first().and_then(|a| self.constant(a)).unwrap_or(8);
                return Some(self.alloc(size, form.span));
            }
            "kernel-load" => {
                if !self.arity(form, name, args, 3, 3) {
                    return Some(Expr::int(0, form.span));
                }
                let size = crate::ast::Ty::from_name(super::symbol_name(&args[0]).unwrap_or(""))
                    .map_or(8, |t| t.size()) as i64;
                let buf = b.sym("%kernel-load-buffer");
                let addr = b.call("+", vec![args[1].clone(), args[2].clone()]);
                b.call(
                    "let",
                    vec![
                        b.list(vec![b.list(vec![
                            buf.clone(),
                            b.call("struct-alloc", vec![b.int(size)]),
                        ])]),
                        b.call("probe-read-kernel", vec![buf.clone(), b.int(size), addr]),
                        b.call("load", vec![args[0].clone(), buf, b.int(0)]),
                    ],
                )
            }
            "setmap" => b.call(
                "setf",
                vec![
                    b.call("getmap", args.get(..2).unwrap_or(args).to_vec()),
                    args.get(2).cloned().unwrap_or(b.int(0)),
                ],
            ),
            "delmap" => b.call("remmap", args.to_vec()),
            "with-packet" | "with-tc-packet" | "with-eth" | "with-tc-eth" | "with-ipv4"
            | "with-tc-ipv4" | "with-tcp" | "with-tc-tcp" | "with-udp" | "with-tc-udp" => {
                return Some(self.with_header(form, name, args));
            }
            "do-user-ptrs" | "do-user-array" => return Some(self.do_user(form, name, args)),
            "parse-eth" | "parse-ipv4" | "parse-tcp" | "parse-udp" => {
                if !self.arity(form, name, args, 2, 2) {
                    return Some(Expr::int(0, form.span));
                }
                parse_header(&b, name, &args[0], &args[1])
            }
            _ => return None,
        };
        Some(self.expr(&expanded))
    }

    /// `(do-user-ptrs (PTR BASE COUNT MAX [:index I]) body...)` and
    /// `(do-user-array (VAR TYPE BASE COUNT MAX [:index I]) body...)`: a bounded loop reading
    /// user memory element by element with `probe-read-user`.
    fn do_user(&mut self, form: &Sexp, name: &str, args: &[Sexp]) -> Expr {
        let b = B(form.span);
        let spec = args.first().and_then(|s| s.as_list()).unwrap_or_default();
        let fixed = if name == "do-user-ptrs" { 4 } else { 5 };
        if spec.len() < fixed {
            return self.err(
                form.span,
                format!(
                    "expected `({name} ({}) BODY...)`",
                    if fixed == 4 {
                        "PTR BASE COUNT MAX [:index I]"
                    } else {
                        "VAR TYPE BASE COUNT MAX [:index I]"
                    }
                ),
            );
        }
        let index = match &spec[fixed..] {
            [k, v] if super::keyword_name(k) == Some("index") => v.clone(),
            _ => b.sym("%do-user-index"),
        };
        let body: Vec<Sexp> = args[1..].to_vec();
        let (var, ty, base, count, max) = if fixed == 4 {
            (&spec[0], b.sym("u64"), &spec[1], &spec[2], &spec[3])
        } else {
            (&spec[0], spec[1].clone(), &spec[2], &spec[3], &spec[4])
        };
        let ty_name = super::symbol_name(&ty).unwrap_or("");
        let struct_size = self
            .env
            .struct_index
            .get(ty_name)
            .map(|&i| self.env.structs[i].size as i64);
        let size = struct_size
            .unwrap_or_else(|| crate::ast::Ty::from_name(ty_name).map_or(8, |t| t.size() as i64));
        let buf = match struct_size {
            Some(_) => var.clone(),
            None => b.sym("%do-user-buffer"),
        };
        let addr = b.call(
            "+",
            vec![base.clone(), b.call("*", vec![index.clone(), b.int(size)])],
        );
        let read = b.call("probe-read-user", vec![buf.clone(), b.int(size), addr]);
        let mut step = vec![read];
        let value = b.call("load", vec![ty.clone(), buf.clone(), b.int(0)]);
        if name == "do-user-ptrs" {
            let mut wl = vec![
                b.sym("when-let"),
                b.list(vec![b.list(vec![var.clone(), value])]),
            ];
            wl.extend(body);
            step.push(b.list(wl));
        } else if struct_size.is_some() {
            step.extend(body);
        } else {
            let mut l = vec![b.sym("let"), b.list(vec![b.list(vec![var.clone(), value])])];
            l.extend(body);
            step.push(b.list(l));
        }
        let mut when = vec![
            b.sym("when"),
            b.call(">", vec![count.clone(), index.clone()]),
        ];
        when.extend(step);
        let lp = b.call(
            "dotimes",
            vec![b.list(vec![index, max.clone()]), b.list(when)],
        );
        let expanded = b.call(
            "let",
            vec![
                b.list(vec![
                    b.list(vec![buf, b.call("struct-alloc", vec![b.int(size)])])
                ]),
                lp,
            ],
        );
        self.expr(&expanded)
    }

    fn alloc(&mut self, size: i64, span: Span) -> Expr {
        let size = size.clamp(1, 1 << 16) as u32;
        Expr::new(crate::ast::ExprKind::StackAlloc { size, zero: true }, span)
    }

    /// `(with-X (data data-end [ptr] [:min-len n]) body...)`.
    fn with_header(&mut self, form: &Sexp, name: &str, args: &[Sexp]) -> Expr {
        let b = B(form.span);
        let spec = args.first().and_then(|s| s.as_list()).unwrap_or_default();
        let (Some(data), Some(end)) = (spec.first(), spec.get(1)) else {
            return self.err(
                form.span,
                format!("expected `({name} (DATA DATA-END ...) BODY...)`"),
            );
        };
        let tc = name.starts_with("with-tc-");
        let kind = name
            .trim_start_matches("with-tc-")
            .trim_start_matches("with-");
        let body: Vec<Sexp> = args[1..].to_vec();
        let (min, inner) = match kind {
            "packet" => {
                let min = match &spec[2..] {
                    [k, v] if super::keyword_name(k) == Some("min-len") => v.clone(),
                    _ => b.int(0),
                };
                (min, b.call("progn", body))
            }
            "eth" => (b.int(ETH), b.call("progn", body)),
            _ => {
                let Some(ptr) = spec.get(2) else {
                    return self.err(
                        form.span,
                        format!("expected `({name} (DATA DATA-END VAR) BODY...)`"),
                    );
                };
                let eth_ok = b.call(
                    "=",
                    vec![b.call("eth-type", vec![data.clone()]), b.int(0x0800)],
                );
                let ip = if kind == "ipv4" {
                    ptr.clone()
                } else {
                    b.sym("%with-header-ip")
                };
                let ip_bind = |inner: Sexp| {
                    b.call(
                        "let",
                        vec![
                            b.list(vec![b.list(vec![
                                ip.clone(),
                                b.sym("u64"),
                                b.call("+", vec![data.clone(), b.int(ETH)]),
                            ])]),
                            inner,
                        ],
                    )
                };
                let (min, inner) = match kind {
                    "ipv4" => (ETH + IPV4, ip_bind(b.call("progn", body))),
                    _ => {
                        let (proto, len) = if kind == "tcp" { (6, TCP) } else { (17, UDP) };
                        let l4 = b.call(
                            "let",
                            vec![
                                b.list(vec![b.list(vec![
                                    ptr.clone(),
                                    b.sym("u64"),
                                    b.call("+", vec![ip.clone(), b.int(IPV4)]),
                                ])]),
                                b.call("progn", body),
                            ],
                        );
                        let proto_ok = b.call(
                            "=",
                            vec![b.call("ipv4-protocol", vec![ip.clone()]), b.int(proto)],
                        );
                        (
                            ETH + IPV4 + len,
                            ip_bind(b.call("when", vec![proto_ok, l4])),
                        )
                    }
                };
                (b.int(min), b.call("when", vec![eth_ok, inner]))
            }
        };
        let (d_off, e_off, fail) = if tc {
            (76, 80, "TC_ACT_OK")
        } else {
            (0, 4, "XDP_PASS")
        };
        let bindings = b.list(vec![
            b.list(vec![
                data.clone(),
                b.sym("u64"),
                b.call("ctx", vec![b.sym("u32"), b.int(d_off)]),
            ]),
            b.list(vec![
                end.clone(),
                b.sym("u64"),
                b.call("ctx", vec![b.sym("u32"), b.int(e_off)]),
            ]),
        ]);
        let check = b.call(">", vec![b.call("+", vec![data.clone(), min]), end.clone()]);
        let guarded = b.call(
            "if",
            vec![check, b.call("return", vec![b.sym(fail)]), inner],
        );
        self.expr(&b.call("let", vec![bindings, guarded]))
    }
}

/// `(parse-X data data-end)`: the header pointer, or 0 when the packet is too short or of
/// another protocol.
fn parse_header(b: &B, name: &str, data: &Sexp, end: &Sexp) -> Sexp {
    let (d, e, ip) = (
        b.sym("%parse-data"),
        b.sym("%parse-end"),
        b.sym("%parse-ip"),
    );
    let (min, proto) = match name {
        "parse-eth" => (ETH, None),
        "parse-ipv4" => (ETH + IPV4, None),
        "parse-tcp" => (ETH + IPV4 + TCP, Some(6)),
        _ => (ETH + IPV4 + UDP, Some(17)),
    };
    let result = match (name, proto) {
        ("parse-eth", _) => d.clone(),
        (_, None) => b.call("+", vec![d.clone(), b.int(ETH)]),
        (_, Some(p)) => b.call(
            "let",
            vec![
                b.list(vec![b.list(vec![
                    ip.clone(),
                    b.call("+", vec![d.clone(), b.int(ETH)]),
                ])]),
                b.call(
                    "if",
                    vec![
                        b.call(
                            "/=",
                            vec![b.call("ipv4-protocol", vec![ip.clone()]), b.int(p)],
                        ),
                        b.int(0),
                        b.call("+", vec![ip, b.int(IPV4)]),
                    ],
                ),
            ],
        ),
    };
    let checked = if name == "parse-eth" {
        result
    } else {
        b.call(
            "if",
            vec![
                b.call(
                    "/=",
                    vec![b.call("eth-type", vec![d.clone()]), b.int(0x0800)],
                ),
                b.int(0),
                result,
            ],
        )
    };
    b.call(
        "let",
        vec![
            b.list(vec![
                b.list(vec![d.clone(), data.clone()]),
                b.list(vec![e.clone(), end.clone()]),
            ]),
            b.call(
                "if",
                vec![
                    b.call(">", vec![b.call("+", vec![d, b.int(min)]), e]),
                    b.int(0),
                    checked,
                ],
            ),
        ],
    )
}
