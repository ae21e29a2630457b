//! Diagnostics as `compile_error!` invocations that rustc underlines at the right tokens.

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// `::core::compile_error!{"message"}` with `first` on the path and `last` on the braces, so that
/// rustc's underline runs from the first token to the last.
pub fn compile_error(message: &str, first: Span, last: Span) -> TokenStream {
    let mut path = TokenStream::new();
    for segment in ["core", "compile_error"] {
        let mut colons = Punct::new(':', Spacing::Joint);
        colons.set_span(first);
        let mut colon = Punct::new(':', Spacing::Alone);
        colon.set_span(first);
        path.extend([TokenTree::Punct(colons), TokenTree::Punct(colon)]);
        path.extend([TokenTree::Ident(Ident::new(segment, first))]);
    }
    let mut bang = Punct::new('!', Spacing::Alone);
    bang.set_span(first);
    let mut literal = Literal::string(message);
    literal.set_span(last);
    let mut group = Group::new(Delimiter::Brace, TokenTree::Literal(literal).into());
    group.set_span(last);
    let mut out = path;
    out.extend([TokenTree::Punct(bang), TokenTree::Group(group)]);
    out
}

/// The text of a diagnostic as the CLI would phrase it, without the location rustc shows anyway.
pub fn message(d: &whistler_syntax::Diagnostic) -> String {
    match &d.help {
        Some(help) => format!("{}\n  help: {help}", d.message),
        None => d.message.clone(),
    }
}
