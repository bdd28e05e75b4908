//! `#[kernel(...)]` options.

use syn::parse::Parser;
use syn::spanned::Spanned;

pub const PARALLEL: &str = "parallel";
pub const PYTHON: &str = "python";
pub const STRICT: &str = "strict";
pub const TARGETS: &str = "targets";
const ALL: &str = "`parallel`, `python`, `strict`, `targets(..)`";

/// The clone levels, as named in `targets(..)` and `LOOPFUSE_TARGET`, in the runtime's
/// `Target::ALL` order (lowest first within each architecture): the runtime's table of
/// levels (`runtime/src/level.rs`) has a row for each name, and `tests/levels.rs` checks
/// that these are exactly `Target::ALL`'s names.
pub const LEVELS: [&str; 5] = ["generic", "v2", "v3", "v4", "neon"];

pub struct Options {
    pub strict: bool,
    /// `parallel`: passes (1-D and N-d) run on rayon's pool above a size threshold (`codegen/parallel.rs`).
    pub parallel: bool,
    /// Levels to clone for; `None` = all.
    pub targets: Option<Vec<String>>,
    /// `python`: also emit a Python wrapper (`crate::python`); the option's span.
    pub python: Option<proc_macro2::Span>,
}

/// Parses the attribute's arguments. Errors go to `ctxt`; the defaults stand in for bad options.
pub fn parse(args: proc_macro2::TokenStream, ctxt: &mut crate::ctxt::Ctxt) -> Options {
    let mut opts = Options { strict: false, parallel: false, targets: None, python: None };
    let mut seen: Vec<String> = Vec::new();
    let parser = syn::meta::parser(|meta| {
        let name = meta.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
        if seen.contains(&name) {
            return Err(meta.error(format!("duplicate option `{name}`")));
        }
        seen.push(name.clone());
        match name.as_str() {
            STRICT => {
                opts.strict = true;
                Ok(())
            }
            PYTHON => {
                opts.python = Some(meta.path.span());
                Ok(())
            }
            PARALLEL if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) => Err(meta.error(
                "`parallel` takes no arguments: the kernel runs on the rayon pool it is called in; \
                 to choose the thread count, call it inside `rayon::ThreadPoolBuilder::new().num_threads(n).build()?.install(|| ..)`",
            )),
            PARALLEL => {
                opts.parallel = true;
                Ok(())
            }
            TARGETS => {
                let content;
                syn::parenthesized!(content in meta.input);
                let names = syn::punctuated::Punctuated::<syn::Ident, syn::Token![,]>::parse_terminated(&content)?;
                if names.is_empty() {
                    return Err(
                        meta.error("`targets(..)` needs at least one target: `generic`, `v2`, `v3`, `v4`, `neon`")
                    );
                }
                let mut list = Vec::new();
                for t in names {
                    let level = t.to_string();
                    if !LEVELS.contains(&level.as_str()) {
                        return Err(syn::Error::new(
                            t.span(),
                            format!("unknown target `{level}`, expected one of: `generic`, `v2`, `v3`, `v4`, `neon`"),
                        ));
                    }
                    if list.contains(&level) {
                        return Err(syn::Error::new(t.span(), format!("duplicate target `{level}`")));
                    }
                    list.push(level);
                }
                opts.targets = Some(list);
                Ok(())
            }
            _ => {
                let path = &meta.path;
                let shown = quote::quote!(#path).to_string().replace(' ', "");
                Err(meta.error(format!("unknown option `{shown}`, expected one of: {ALL}")))
            }
        }
    });
    if let Err(e) = parser.parse2(args) {
        ctxt.push(e);
    }
    opts
}
