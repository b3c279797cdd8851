//! The service's top-level modules (`src/*`) import one another without cycles (README,
//! "Layout": server → web → http → app → domain → core, config, vocabulary → db, blobs).
//!
//! Read from the tokens of every source file: each `crate::x` path, in `use` items, inline, and
//! inside macro bodies (maud's `html!`), is an edge from the file's top-level module to `x`.
//! Written here rather than taken from a tool: cargo-modules (`dependencies --acyclic`) would be
//! compiled with rust-analyzer's libraries on every fresh CI machine, and checks modules at every
//! depth where the rule is about the top level; neither rustc nor clippy has such a lint.
//! `super::` paths are not followed: in this code base they stay inside their top-level module.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// module → module it uses → where first (`src/file.rs:line`).
type Graph = BTreeMap<String, BTreeMap<String, String>>;

#[test]
fn the_top_level_modules_import_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let mut files = Vec::new();
    sources(&src, &mut files);
    let files: Vec<(String, String)> = files
        .into_iter()
        .map(|path| {
            let rel = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (rel, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    let graph = graph(&lib, &files);
    // The reading works: the server is built on the API's routes.
    assert!(graph["server"].contains_key("http"), "{graph:#?}");
    if let Some(cycle) = cycle(&graph) {
        panic!("an import cycle between the service's modules: {cycle}");
    }
}

#[test]
fn a_cycle_is_found_through_use_items_and_inline_paths() {
    let lib = "pub mod a; pub mod b; pub mod c; pub mod error; pub use error::{Error, Result};";
    let files = [
        ("a.rs", "use crate::{b::Thing, Result};"),
        ("b/mod.rs", "fn f() -> u8 { html! { (crate::c::g()) } }"),
        (
            "c.rs",
            "pub(crate) fn g() -> crate::Error { crate::a::h() }",
        ),
    ]
    .map(|(file, text)| (file.to_owned(), text.to_owned()));
    let graph = graph(lib, &files);
    assert_eq!(graph["a"].keys().collect::<Vec<_>>(), ["b", "error"]);
    assert_eq!(
        cycle(&graph).unwrap(),
        "a → b (a.rs:1) → c (b/mod.rs:1) → a (c.rs:1)"
    );
    let acyclic = &files[..2];
    assert_eq!(cycle(&self::graph(lib, acyclic)), None);
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The import graph of the modules `lib` declares, from `(path under src, text)` pairs.
fn graph(lib: &str, files: &[(String, String)]) -> Graph {
    let lib = tokens(lib);
    let modules = declared_modules(&lib);
    // What the crate root re-exports (`pub use error::{Error, Result}`) belongs to its module.
    let mut owner: BTreeMap<String, String> =
        modules.iter().map(|m| (m.clone(), m.clone())).collect();
    let mut root_uses = Vec::new();
    uses(&lib, &mut root_uses);
    for (module, names) in root_uses {
        if modules.contains(&module) {
            for name in names {
                owner.insert(name, module.clone());
            }
        }
    }
    let mut graph: Graph = modules
        .iter()
        .map(|m| (m.clone(), BTreeMap::new()))
        .collect();
    for (file, text) in files {
        let from = file.split(['/', '.']).next().unwrap().to_owned();
        if !modules.contains(&from) {
            continue; // lib.rs, main.rs (the binary, a crate of its own)
        }
        let mut paths = Vec::new();
        crate_paths(tokens(text), &mut paths);
        for (name, line) in paths {
            match owner.get(&name) {
                Some(to) if *to != from => {
                    graph
                        .get_mut(&from)
                        .unwrap()
                        .entry(to.clone())
                        .or_insert_with(|| format!("{file}:{line}"));
                }
                _ => {} // the module itself, or the core's modules the root re-exports
            }
        }
    }
    graph
}

fn tokens(text: &str) -> TokenStream {
    TokenStream::from_str(text).expect("source that tokenizes")
}

/// `mod x;` items.
fn declared_modules(lib: &TokenStream) -> Vec<String> {
    let tokens: Vec<TokenTree> = lib.clone().into_iter().collect();
    tokens
        .windows(2)
        .filter_map(|pair| match pair {
            [TokenTree::Ident(keyword), TokenTree::Ident(name)] if keyword == "mod" => {
                Some(name.to_string())
            }
            _ => None,
        })
        .collect()
}

/// `use module::name;` and `use module::{a, b};` items: (module, names).
fn uses(stream: &TokenStream, out: &mut Vec<(String, Vec<String>)>) {
    let tokens: Vec<TokenTree> = stream.clone().into_iter().collect();
    for (i, token) in tokens.iter().enumerate() {
        let TokenTree::Ident(word) = token else {
            continue;
        };
        if word != "use" {
            continue;
        }
        if let (Some(TokenTree::Ident(module)), true) =
            (tokens.get(i + 1), path_sep(&tokens[i + 2..]))
        {
            let mut names = Vec::new();
            heads(tokens.get(i + 4..).unwrap_or_default(), &mut names);
            out.push((
                module.to_string(),
                names.into_iter().map(|(name, _)| name).collect(),
            ));
        }
    }
}

/// Each `crate::x` (and `crate::{x, y::z}`) in `stream`, with its line.
fn crate_paths(stream: TokenStream, out: &mut Vec<(String, usize)>) {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Group(group) => crate_paths(group.stream(), out),
            TokenTree::Ident(word) if word == "crate" && path_sep(&tokens[i + 1..]) => {
                heads(tokens.get(i + 3..).unwrap_or_default(), out);
            }
            _ => {}
        }
    }
}

/// The first name of the path that `after` starts: a name, or that of each comma-separated
/// path in a `{…}` group.
fn heads(after: &[TokenTree], out: &mut Vec<(String, usize)>) {
    match after.first() {
        Some(TokenTree::Ident(name)) => out.push((name.to_string(), name.span().start().line)),
        Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => {
            let mut first = true;
            for token in group.stream() {
                match token {
                    TokenTree::Punct(p) if p.as_char() == ',' => first = true,
                    TokenTree::Ident(name) if first => {
                        out.push((name.to_string(), name.span().start().line));
                        first = false;
                    }
                    _ => first = false,
                }
            }
        }
        _ => {}
    }
}

/// Whether `tokens` starts with `::`.
fn path_sep(tokens: &[TokenTree]) -> bool {
    matches!(tokens, [TokenTree::Punct(a), TokenTree::Punct(b), ..] if a.as_char() == ':' && b.as_char() == ':')
}

/// One cycle of `graph`, spelt `a → b (where) → … → a (where)`, if there is any.
fn cycle(graph: &Graph) -> Option<String> {
    fn visit<'g>(
        graph: &'g Graph,
        node: &'g str,
        path: &mut Vec<&'g str>,
        done: &mut Vec<&'g str>,
    ) -> Option<String> {
        if let Some(start) = path.iter().position(|n| *n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node);
            let mut text = cycle[0].to_owned();
            for pair in cycle.windows(2) {
                text += &format!(" → {} ({})", pair[1], graph[pair[0]][pair[1]]);
            }
            return Some(text);
        }
        if done.contains(&node) {
            return None;
        }
        path.push(node);
        for next in graph[node].keys() {
            if let Some(found) = visit(graph, next, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.push(node);
        None
    }
    let mut done = Vec::new();
    graph
        .keys()
        .find_map(|node| visit(graph, node, &mut Vec::new(), &mut done))
}
