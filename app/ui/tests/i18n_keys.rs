//! English and French must have the same messages with the same variables,
//! and every message must be used by the code (no stale keys).

use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Keys = BTreeMap<String, BTreeSet<String>>;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn collect_inline(e: &InlineExpression<&str>, vars: &mut BTreeSet<String>) {
    match e {
        InlineExpression::VariableReference { id } => {
            vars.insert(id.name.to_owned());
        }
        InlineExpression::Placeable { expression } => collect_expr(expression, vars),
        InlineExpression::FunctionReference { arguments, .. } => {
            for a in &arguments.positional {
                collect_inline(a, vars);
            }
        }
        _ => {}
    }
}

fn collect_expr(e: &Expression<&str>, vars: &mut BTreeSet<String>) {
    match e {
        Expression::Inline(i) => collect_inline(i, vars),
        Expression::Select { selector, variants } => {
            collect_inline(selector, vars);
            for v in variants {
                collect_pattern(&v.value, vars);
            }
        }
    }
}

fn collect_pattern(p: &Pattern<&str>, vars: &mut BTreeSet<String>) {
    for element in &p.elements {
        if let PatternElement::Placeable { expression } = element {
            collect_expr(expression, vars);
        }
    }
}

fn keys(lang: &str) -> Keys {
    let path = root().join(format!("../../i18n/{lang}/koine-ui.ftl"));
    let source = std::fs::read_to_string(&path).expect("read the ftl file");
    let resource = match fluent_syntax::parser::parse(source.as_str()) {
        Ok(r) => r,
        Err((_, errors)) => panic!("{lang}: syntax errors: {errors:?}"),
    };
    let mut keys = Keys::new();
    for entry in resource.body {
        if let Entry::Message(m) = entry {
            let mut vars = BTreeSet::new();
            if let Some(value) = &m.value {
                collect_pattern(value, &mut vars);
            }
            assert!(
                keys.insert(m.id.name.to_owned(), vars).is_none(),
                "{lang}: duplicate key {}",
                m.id.name
            );
        }
    }
    keys
}

fn diff(a: &Keys, b: &Keys) -> Vec<String> {
    a.keys().filter(|k| !b.contains_key(*k)).cloned().collect()
}

#[test]
fn english_and_french_have_the_same_keys() {
    let (en, fr) = (keys("en"), keys("fr"));
    assert!(!en.is_empty());
    assert_eq!(diff(&en, &fr), Vec::<String>::new(), "missing in French");
    assert_eq!(
        diff(&fr, &en),
        Vec::<String>::new(),
        "stale in French (not in English)"
    );
}

#[test]
fn variables_match_between_languages() {
    let (en, fr) = (keys("en"), keys("fr"));
    let mismatched: Vec<_> = en
        .iter()
        .filter(|(k, vars)| fr.get(*k).is_some_and(|f| f != *vars))
        .map(|(k, vars)| format!("{k}: en {vars:?} vs fr {:?}", fr[k]))
        .collect();
    assert!(mismatched.is_empty(), "{mismatched:#?}");
}

#[test]
fn every_key_is_used_by_the_code() {
    let mut code = String::new();
    for entry in std::fs::read_dir(root().join("src")).expect("src") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            code.push_str(&std::fs::read_to_string(path).expect("read"));
        }
    }
    let stale: Vec<_> = keys("en")
        .into_keys()
        .filter(|k| !code.contains(&format!("\"{k}\"")))
        .collect();
    assert!(stale.is_empty(), "keys no code uses: {stale:?}");
}
