//! From the macro's input to the generated session: compile the Lisp, then emit the session
//! struct (programs first, so that dropping it detaches before maps close), its `Session` impl
//! and one `#[repr(C)]` struct per `defstruct`.

use crate::errors::{compile_error, message};
use crate::input::{self, Body, CallFile, Header};
use crate::names::{camel_case, ident, snake_case};
use crate::tokens::{self, TokenProblem};
use proc_macro2::{Literal, Span, TokenStream};
use quote::quote;
use whistler_bpf::MapType;
use whistler_compiler::Compiled;
use whistler_object::{BtfTypeRef, MapSpec, StructSpec};
use whistler_syntax::SourceFile;

/// What compiling the body produced.
enum Outcome {
    Compiled {
        compiled: Box<Compiled>,
        extra: TokenStream,
    },
    Errors(TokenStream),
    /// Token positions are unavailable (an IDE expanding the macro): emit a stub.
    Stub,
}

pub fn session(input: TokenStream, call: CallFile) -> TokenStream {
    let (header, body) = match input::parse(input) {
        Ok(parsed) => parsed,
        Err(e) => return compile_error(&e.message, e.span, e.span),
    };
    match compile_body(body, &call) {
        Outcome::Compiled { compiled, extra } => {
            let mut out = generate(&header, &compiled);
            out.extend(extra);
            out
        }
        Outcome::Errors(errors) => {
            let mut out = stub(&header);
            out.extend(errors);
            out
        }
        Outcome::Stub => stub(&header),
    }
}

/// `with_bpf_session!({ lisp } |s| { body })`.
pub fn scoped_session(input: TokenStream, call: CallFile) -> TokenStream {
    let mut tokens = input.into_iter();
    let usage = "usage: with_bpf_session!({ lisp forms } |s| { body })";
    let Some(proc_macro2::TokenTree::Group(lisp)) = tokens.next() else {
        return compile_error(usage, Span::call_site(), Span::call_site());
    };
    let closure: TokenStream = tokens.collect();
    if closure.is_empty() {
        return compile_error(usage, lisp.span(), lisp.span());
    }
    let lisp = lisp.stream();
    let name = proc_macro2::Ident::new("WhistlerScopedSession", Span::call_site());
    let declared = session(quote!(struct #name; #lisp), call);
    quote! {{
        #declared
        (|| -> ::whistler::Result<_> {
            let mut session = #name::load()?;
            // The closure is passed straight to a function whose bound names `&mut Session`,
            // so that its parameter's type is known while its body is type-checked.
            let result = ::whistler::__private::call_scoped(&mut session, #closure);
            drop(session);
            Ok(result)
        })()
    }}
}

fn compile_body(body: Body, call: &CallFile) -> Outcome {
    match body {
        Body::Tokens(tokens) => compile_tokens(tokens, call),
        Body::Literal(literal) => match input::string_value(&literal) {
            Ok((text, prefix)) => {
                let start = literal.span().start();
                let padded = format!(
                    "{}{}{}",
                    "\n".repeat(start.line.saturating_sub(1)),
                    " ".repeat(start.column + prefix),
                    text
                );
                compile_whole(
                    SourceFile::new(call.display_name.clone(), padded),
                    &literal,
                    TokenStream::new(),
                )
            }
            Err(e) => Outcome::Errors(compile_error(&e.message, e.span, e.span)),
        },
        Body::File { literal } => compile_file(literal, call),
    }
}

fn compile_tokens(tokens: TokenStream, call: &CallFile) -> Outcome {
    let text = match tokens::rebuild(tokens) {
        Ok(text) => text,
        Err(TokenProblem::PositionsUnavailable) => return Outcome::Stub,
        Err(TokenProblem::Unsupported { span, message }) => {
            return Outcome::Errors(compile_error(&message, span, span))
        }
    };
    let file = SourceFile::new(call.display_name.clone(), text.text.clone());
    match compile(&file) {
        Ok(compiled) => Outcome::Compiled {
            compiled: Box::new(compiled),
            extra: TokenStream::new(),
        },
        Err(diagnostics) => Outcome::Errors(
            diagnostics
                .iter()
                .map(|d| {
                    let (first, last) = text
                        .spans_for(d.span.start as usize, d.span.end as usize)
                        .unwrap_or((Span::call_site(), Span::call_site()));
                    compile_error(&message(d), first, last)
                })
                .collect(),
        ),
    }
}

fn compile_file(literal: Literal, call: &CallFile) -> Outcome {
    let relative = match input::string_value(&literal) {
        Ok((path, _)) => path,
        Err(e) => return Outcome::Errors(compile_error(&e.message, e.span, e.span)),
    };
    let Some(dir) = call.local_path.as_ref().and_then(|p| p.parent()) else {
        return Outcome::Stub;
    };
    let path = dir.join(&relative);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            let msg = format!(
                "cannot read {}: {e} (the path is relative to the file calling the macro)",
                path.display()
            );
            return Outcome::Errors(compile_error(&msg, literal.span(), literal.span()));
        }
    };
    let absolute = path
        .canonicalize()
        .unwrap_or(path.clone())
        .display()
        .to_string();
    // Makes cargo rebuild when the .lisp file changes.
    let extra = quote!(
        const _: &[u8] = ::core::include_bytes!(#absolute);
    );
    compile_whole(SourceFile::new(relative, text), &literal, extra)
}

/// Compiles a source whose errors can only be shown on one literal: the message carries the
/// position inside it.
fn compile_whole(file: SourceFile, literal: &Literal, extra: TokenStream) -> Outcome {
    match compile(&file) {
        Ok(compiled) => Outcome::Compiled {
            compiled: Box::new(compiled),
            extra,
        },
        Err(diagnostics) => Outcome::Errors(
            diagnostics
                .iter()
                .map(|d| {
                    let at = file.line_col(d.span.start);
                    let msg = format!("{}:{}:{}: {}", file.name, at.line, at.col, message(d));
                    compile_error(&msg, literal.span(), literal.span())
                })
                .collect(),
        ),
    }
}

/// A session type with no handles, so that code using it still type-checks while the Lisp has
/// errors (they are reported beside it) or while an IDE expands without positions.
fn stub(header: &Header) -> TokenStream {
    let Header {
        attributes,
        visibility,
        name,
    } = header;
    quote! {
        #attributes
        #visibility struct #name {}
        impl #name {
            pub fn load() -> ::whistler::Result<Self> {
                ::core::result::Result::Err(::whistler::Error::NotCompiled)
            }
        }
    }
}

fn generate(header: &Header, compiled: &Compiled) -> TokenStream {
    let Header {
        attributes,
        visibility,
        name,
    } = header;
    let spec = &compiled.spec;
    let mut fields = Vec::new();
    let mut takes = Vec::new();
    for prog in &spec.programs {
        let field = ident(&snake_case(&prog.name), Span::call_site());
        let lisp_name = whistler_object::symbol_name(&prog.name);
        fields.push(quote!(pub #field: ::whistler::Program));
        takes.push(quote!(#field: loaded.take_program(#lisp_name)?));
    }
    let mut keyed_maps = Vec::new();
    for map in &spec.maps {
        let field = ident(&snake_case(&map.name), Span::call_site());
        let lisp_name = whistler_object::symbol_name(&map.name);
        let ty = map_handle_type(map);
        if is_keyed(map) {
            let written = &map.name;
            keyed_maps.push(quote!((#written, self.#field.raw())));
        }
        fields.push(quote!(pub #field: #ty));
        takes.push(quote!(#field: loaded.take_map(#lisp_name)?));
    }
    let object = Literal::byte_string(&compiled.elf);
    let structs = spec
        .structs
        .iter()
        .map(|s| struct_definition(visibility, s, &spec.structs));
    let doc = format!(
        "BPF session compiled by `whistler::session!`: {} program(s), {} map(s). Dropping it detaches every program and closes every map.",
        spec.programs.len(),
        spec.maps.len()
    );
    quote! {
        #attributes
        #[doc = #doc]
        #visibility struct #name {
            #(#fields,)*
        }

        impl #name {
            /// The BPF ELF object compiled at build time.
            pub const OBJECT: &'static [u8] = #object;

            /// Options for loading: pin path, max-entries overrides, `.rodata` values, log level.
            pub fn builder() -> ::whistler::SessionBuilder<Self> {
                ::whistler::SessionBuilder::new()
            }

            /// Creates the maps, loads the programs (not yet attached).
            pub fn load() -> ::whistler::Result<Self> {
                Self::builder().load()
            }
        }

        impl ::whistler::Session for #name {
            const OBJECT: &'static [u8] = #object;

            fn from_loaded(loaded: &mut ::whistler::LoadedObject) -> ::whistler::Result<Self> {
                ::core::result::Result::Ok(#name { #(#takes,)* })
            }

            fn keyed_maps(&self) -> ::std::vec::Vec<(&'static str, &::whistler::loader::Map)> {
                ::std::vec![#(#keyed_maps,)*]
            }
        }

        #(#structs)*
    }
}

/// Whether the map's handle is a `Map` or `PerCpuMap` (see [`map_handle_type`]).
fn is_keyed(map: &MapSpec) -> bool {
    !matches!(
        MapType::from_u32(map.map_type),
        Some(
            MapType::RINGBUF
                | MapType::PERF_EVENT_ARRAY
                | MapType::PROG_ARRAY
                | MapType::QUEUE
                | MapType::STACK
        )
    )
}

fn map_handle_type(map: &MapSpec) -> TokenStream {
    let key = value_type(map.key_type.as_ref(), map.key_size);
    let value = value_type(map.value_type.as_ref(), map.value_size);
    match MapType::from_u32(map.map_type) {
        Some(MapType::RINGBUF) => quote!(::whistler::RingBuf),
        Some(MapType::PERF_EVENT_ARRAY) => quote!(::whistler::PerfEventArray),
        Some(MapType::PROG_ARRAY) => quote!(::whistler::ProgArray),
        Some(MapType::QUEUE | MapType::STACK) => quote!(::whistler::Queue<#value>),
        Some(t) if t.is_per_cpu() => quote!(::whistler::PerCpuMap<#key, #value>),
        _ => quote!(::whistler::Map<#key, #value>),
    }
}

/// The Rust type for a key or value: the named struct, an unsigned integer of 1/2/4/8 bytes, or
/// a byte array.
fn value_type(ty: Option<&BtfTypeRef>, size: u32) -> TokenStream {
    match ty {
        Some(ty) => rust_type(ty),
        None => match size {
            0 => quote!(()),
            1 => quote!(u8),
            2 => quote!(u16),
            4 => quote!(u32),
            8 => quote!(u64),
            n => {
                let n = n as usize;
                quote!([u8; #n])
            }
        },
    }
}

fn rust_type(ty: &BtfTypeRef) -> TokenStream {
    match ty {
        BtfTypeRef::Int { size, signed } => {
            let name = format!("{}{}", if *signed { 'i' } else { 'u' }, size * 8);
            let name = proc_macro2::Ident::new(&name, Span::call_site());
            quote!(#name)
        }
        BtfTypeRef::Array { elem, count } => {
            let elem = rust_type(elem);
            let count = *count as usize;
            quote!([#elem; #count])
        }
        BtfTypeRef::Struct(name) => {
            let name = proc_macro2::Ident::new(&camel_case(name), Span::call_site());
            quote!(#name)
        }
    }
}

/// A `#[repr(C)]` struct with explicit padding fields, so that its layout is the BPF side's and
/// every byte is a field (decodable from any bytes), plus compile-time layout checks.
fn struct_definition(visibility: &TokenStream, s: &StructSpec, all: &[StructSpec]) -> TokenStream {
    let name = proc_macro2::Ident::new(&camel_case(&s.name), Span::call_site());
    let size = s.size as usize;
    let mut fields = Vec::new();
    let mut reads = Vec::new();
    let mut writes = Vec::new();
    let mut checks = Vec::new();
    let mut at = 0usize;
    let mut padding = 0;
    let mut sorted: Vec<_> = s.fields.iter().collect();
    sorted.sort_by_key(|f| f.offset);
    let mut push_field =
        |field: proc_macro2::Ident, ty: TokenStream, start: usize, end: usize, public: bool| {
            let vis = if public { quote!(pub) } else { quote!() };
            fields.push(quote!(#vis #field: #ty));
            reads.push(quote!(#field: ::whistler::Plain::read_from(&bytes[#start..#end])));
            writes.push(quote!(::whistler::Plain::write_to(&self.#field, &mut out[#start..#end])));
        };
    for f in sorted {
        let offset = f.offset as usize;
        if offset > at {
            let pad = proc_macro2::Ident::new(&format!("_pad{padding}"), Span::call_site());
            padding += 1;
            let n = offset - at;
            push_field(pad, quote!([u8; #n]), at, offset, false);
        }
        let end = offset + type_size(&f.ty, all);
        let field = ident(&snake_case(&f.name), Span::call_site());
        checks.push(quote!(::core::assert!(::core::mem::offset_of!(#name, #field) == #offset);));
        push_field(field, rust_type(&f.ty), offset, end, true);
        at = end;
    }
    if size > at {
        let pad = proc_macro2::Ident::new(&format!("_pad{padding}"), Span::call_site());
        let n = size - at;
        push_field(pad, quote!([u8; #n]), at, size, false);
    }
    let doc = format!("The layout of the BPF-side `{}` ({} bytes).", s.name, size);
    quote! {
        #[doc = #doc]
        #[repr(C)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #visibility struct #name {
            #(#fields,)*
        }

        impl ::whistler::Plain for #name {
            const SIZE: usize = #size;
            fn read_from(bytes: &[u8]) -> Self {
                #name { #(#reads,)* }
            }
            fn write_to(&self, out: &mut [u8]) {
                #(#writes;)*
            }
        }

        impl ::core::default::Default for #name {
            fn default() -> Self {
                <Self as ::whistler::Plain>::read_from(&[0u8; #size])
            }
        }

        const _: () = {
            ::core::assert!(::core::mem::size_of::<#name>() == #size);
            #(#checks)*
        };
    }
}

/// Byte size of a field type; structs are looked up by name among the object's structs.
fn type_size(ty: &BtfTypeRef, structs: &[StructSpec]) -> usize {
    match ty {
        BtfTypeRef::Int { size, .. } => *size as usize,
        BtfTypeRef::Array { elem, count } => type_size(elem, structs) * *count as usize,
        BtfTypeRef::Struct(name) => structs
            .iter()
            .find(|s| &s.name == name)
            .map_or(0, |s| s.size as usize),
    }
}

/// Compiles with the standard macro library; `deftracepoint` and `import-kernel-struct` read the
/// build machine's tracefs and kernel BTF.
fn compile(file: &SourceFile) -> Result<Compiled, Vec<whistler_syntax::Diagnostic>> {
    whistler_compiler::compile_in(file, &mut whistler_kernel_host::macro_host())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> CallFile {
        CallFile {
            display_name: "test.rs".into(),
            local_path: None,
        }
    }

    #[test]
    fn without_positions_the_session_is_a_stub_not_an_error() {
        // `pub struct S;` then Lisp with an error, every token at the same position.
        let tokens = crate::tokens::tests::tokens_without_positions(
            "pub struct S; (defprog p (:type :xdp) (getmap nosuch 0))",
        );
        let out = session(tokens, call()).to_string();
        assert!(out.contains("NotCompiled"), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn with_positions_errors_are_compile_errors() {
        let tokens: TokenStream = "pub struct S; (defprog p (:type :xdp) (getmap nosuch 0))"
            .parse()
            .unwrap();
        let out = session(tokens, call()).to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("nosuch"), "{out}");
    }
}
