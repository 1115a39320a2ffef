//! `#[on_each_store]`: one integration test, run once on SQLite and once on PostgreSQL.
//!
//! ```ignore
//! #[on_each_store]
//! async fn creates_a_user(backend: Backend) { … }
//! ```
//!
//! becomes the tests `creates_a_user::sqlite` and `creates_a_user::postgres`, each on a
//! two-worker Tokio runtime; the PostgreSQL one is reported as ignored unless the test crate
//! was built with `--cfg roster_pg` (its build script sets it when `ROSTER_TEST_POSTGRES_URL`
//! is set). The function's body stays ordinary code that rustfmt formats and the compiler
//! points into. `Backend` is the test crate's `support::Backend`.

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, FnArg, ItemFn};

#[proc_macro_attribute]
pub fn on_each_store(args: TokenStream, item: TokenStream) -> TokenStream {
    if !args.is_empty() {
        return syn::Error::new(
            proc_macro2::Span::call_site(),
            "#[on_each_store] takes no arguments",
        )
        .to_compile_error()
        .into();
    }
    let test = parse_macro_input!(item as ItemFn);
    let well_formed = test.sig.asyncness.is_some()
        && test.sig.inputs.len() == 1
        && matches!(test.sig.inputs.first(), Some(FnArg::Typed(_)));
    if !well_formed {
        return syn::Error::new_spanned(
            &test.sig,
            "#[on_each_store] goes on `async fn name(backend: Backend)`",
        )
        .to_compile_error()
        .into();
    }
    let name = &test.sig.ident;
    let docs = &test.attrs;
    let inputs = &test.sig.inputs;
    let body = &test.block;
    quote! {
        #(#docs)*
        mod #name {
            #[allow(unused_imports)]
            use super::*;

            async fn run(#inputs) #body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(crate::support::Backend::Sqlite).await
            }

            #[cfg_attr(not(roster_pg), ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run(crate::support::Backend::Postgres).await
            }
        }
    }
    .into()
}
