//! Rebuilding Lisp text from Rust tokens, placing every token at its own line and column so that
//! the text's line:col equals the .rs file's line:col (for diagnostics and BPF line info), and
//! keeping for every piece of text the span of the Rust token it came from.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};

/// One token's text and where it sits in the rebuilt source.
#[derive(Clone, Debug)]
pub struct Piece {
    pub start: usize,
    pub end: usize,
    pub span: Span,
}

/// The rebuilt Lisp text and its token pieces in text order.
#[derive(Debug, Default)]
pub struct LispText {
    pub text: String,
    pub pieces: Vec<Piece>,
}

/// Why the tokens could not be turned into Lisp text.
pub enum TokenProblem {
    /// rustc (or an IDE) gave every token the same position: no faithful text can be rebuilt.
    PositionsUnavailable,
    /// A token that cannot be Lisp, with what to do instead.
    Unsupported { span: Span, message: String },
}

struct Builder {
    out: LispText,
    line: usize,
    col: usize,
    last_start: Option<(usize, usize, usize, usize)>,
    distinct_positions: bool,
    /// Whether the previous piece was a `'` (which shares its span with the next token).
    last_was_quote: bool,
    /// The first token sharing its whole span with the token before it (not after a `'`).
    shared_span: Option<Span>,
}

/// Rebuilds the text of `tokens`.
pub fn rebuild(tokens: TokenStream) -> Result<LispText, TokenProblem> {
    let mut b = Builder {
        out: LispText::default(),
        line: 1,
        col: 0,
        last_start: None,
        distinct_positions: false,
        last_was_quote: false,
        shared_span: None,
    };
    b.stream(tokens)?;
    if b.out.pieces.len() > 1 && !b.distinct_positions {
        return Err(TokenProblem::PositionsUnavailable);
    }
    if let Some(span) = b.shared_span {
        return Err(TokenProblem::Unsupported {
            span,
            message: "these tokens share one source position (made by another macro?), so the \
                      Lisp cannot be rebuilt from them; write the Lisp directly, or as a string"
                .into(),
        });
    }
    Ok(b.out)
}

impl Builder {
    fn stream(&mut self, tokens: TokenStream) -> Result<(), TokenProblem> {
        let mut iter = tokens.into_iter().peekable();
        while let Some(tree) = iter.next() {
            match tree {
                TokenTree::Group(g) => match g.delimiter() {
                    Delimiter::Parenthesis => {
                        self.piece("(", g.span_open());
                        self.stream(g.stream())?;
                        self.piece(")", g.span_close());
                    }
                    Delimiter::None => self.stream(g.stream())?,
                    Delimiter::Bracket | Delimiter::Brace => {
                        return Err(TokenProblem::Unsupported {
                            span: g.span(),
                            message: "Lisp forms use only `(` and `)`; `[`/`{` are not Lisp".into(),
                        })
                    }
                },
                TokenTree::Punct(p) if p.as_char() == '#' && is_doc_attribute(iter.peek()) => {
                    return Err(TokenProblem::Unsupported {
                        span: p.span(),
                        message: "doc comments (`///`, `//!`) are not Lisp; write `//` comments inside a session".into(),
                    });
                }
                TokenTree::Punct(p) => self.piece(&p.as_char().to_string(), p.span()),
                TokenTree::Ident(i) => self.piece(&i.to_string(), i.span()),
                TokenTree::Literal(l) => self.piece(&l.to_string(), l.span()),
            }
        }
        Ok(())
    }

    fn piece(&mut self, text: &str, span: Span) {
        let (start, end) = (span.start(), span.end());
        let key = (start.line, start.column, end.line, end.column);
        match self.last_start {
            Some(last) if last != key => self.distinct_positions = true,
            Some(_) if !self.last_was_quote && self.shared_span.is_none() => {
                self.shared_span = Some(span)
            }
            _ => {}
        }
        self.last_start = Some(key);
        self.last_was_quote = text == "'";
        if start.line > self.line {
            self.out
                .text
                .extend(std::iter::repeat_n('\n', start.line - self.line));
            self.line = start.line;
            self.col = 0;
        }
        if start.line == self.line && start.column > self.col {
            self.out
                .text
                .extend(std::iter::repeat_n(' ', start.column - self.col));
            self.col = start.column;
        }
        // A token starting before the cursor overlaps the previous one (`'x` arrives as `'` and
        // `x` sharing one span): it is glued on.
        let at = self.out.text.len();
        self.out.text.push_str(text);
        self.out.pieces.push(Piece {
            start: at,
            end: self.out.text.len(),
            span,
        });
        for c in text.chars() {
            if c == '\n' {
                self.line += 1;
                self.col = 0;
            } else {
                self.col += 1;
            }
        }
    }
}

fn is_doc_attribute(next: Option<&TokenTree>) -> bool {
    let Some(TokenTree::Group(g)) = next else {
        return false;
    };
    g.delimiter() == Delimiter::Bracket
        && matches!(g.stream().into_iter().next(), Some(TokenTree::Ident(i)) if i == "doc")
}

impl LispText {
    /// The spans of the first and last tokens overlapping `start..end` of the text.
    pub fn spans_for(&self, start: usize, end: usize) -> Option<(Span, Span)> {
        let end = end.max(start + 1);
        let first = self.pieces.iter().find(|p| p.end > start)?;
        let last = self
            .pieces
            .iter()
            .rev()
            .find(|p| p.start < end)
            .unwrap_or(first);
        Some((first.span, last.span))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn rebuilt(src: &str) -> String {
        let tokens: TokenStream = src.parse().unwrap();
        match rebuild(tokens) {
            Ok(t) => t.text,
            Err(_) => panic!("rebuild failed"),
        }
    }

    #[test]
    fn tokens_come_back_byte_for_byte() {
        let src = "(bpf:map pkt-count :type :array :key-size 4)\n  (setf (x ev) (ash y -32) z #x12 +syn-threshold+ (s>= a b) (<= 1 2) (1+ n) &rest pkg::sym)";
        assert_eq!(rebuilt(src), src);
    }

    #[test]
    fn lines_and_columns_are_kept() {
        let src = "\n\n   (a\n      b)";
        assert_eq!(rebuilt(src), src);
    }

    /// Tokens as an IDE without position information hands them over: every span the same.
    pub(crate) fn tokens_without_positions(src: &str) -> TokenStream {
        fn respan(tokens: TokenStream) -> TokenStream {
            tokens
                .into_iter()
                .map(|tree| match tree {
                    TokenTree::Group(g) => {
                        let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream()));
                        group.set_span(Span::call_site());
                        TokenTree::Group(group)
                    }
                    mut other => {
                        other.set_span(Span::call_site());
                        other
                    }
                })
                .collect()
        }
        respan(src.parse().unwrap())
    }

    #[test]
    fn equal_positions_are_reported_as_unavailable() {
        let tokens = tokens_without_positions("(defmap m :type :array) (defprog p (:type :xdp) 0)");
        assert!(matches!(
            rebuild(tokens),
            Err(TokenProblem::PositionsUnavailable)
        ));
    }

    #[test]
    fn one_token_or_distinct_positions_are_not_flagged() {
        assert!(rebuild(tokens_without_positions("x")).is_ok());
        assert!(rebuild("(a b)".parse().unwrap()).is_ok());
    }

    #[test]
    fn tokens_sharing_a_position_among_others_are_refused() {
        let mut tokens: TokenStream = "x a".parse().unwrap();
        tokens.extend(tokens_without_positions("b c"));
        assert!(matches!(
            rebuild(tokens),
            Err(TokenProblem::Unsupported { message, .. }) if message.contains("share one source position")
        ));
    }

    #[test]
    fn a_quote_shares_its_span_with_the_next_token() {
        let quote = proc_macro2::Punct::new('\'', proc_macro2::Spacing::Joint);
        let name = proc_macro2::Ident::new("foo", Span::call_site());
        let mut tokens: TokenStream = "a".parse().unwrap();
        tokens.extend([TokenTree::Punct(quote), TokenTree::Ident(name)]);
        assert!(rebuild(tokens).is_ok());
    }

    #[test]
    fn spans_map_back() {
        let tokens: TokenStream = "(foo bar-baz 1)".parse().unwrap();
        let text = rebuild(tokens).ok().unwrap();
        let start = text.text.find("bar").unwrap();
        let (first, last) = text.spans_for(start, start + 7).unwrap();
        assert_eq!(first.start().column, 5);
        assert_eq!(last.end().column, 12);
    }
}
