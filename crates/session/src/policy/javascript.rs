//! JavaScript facts, from the tree-sitter JavaScript grammar.

use tree_sitter::{Node, Parser};

use super::{BUILTIN_OBJECTS, Fact, Finding, compact, nodes};

/// Imports, calls and dynamic accesses found in `code`.
pub(crate) fn findings(code: &str) -> Vec<Finding> {
    let mut parser = Parser::new();
    if parser
        .set_language(&tree_sitter_javascript::LANGUAGE.into())
        .is_err()
    {
        return Vec::new();
    }
    let Some(tree) = parser.parse(code, None) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for node in nodes(&tree) {
        match node.kind() {
            "import_statement" | "export_statement" => {
                if let Some(source) = node.child_by_field_name("source")
                    && let Some(module) = constant_string(&source, code)
                {
                    found.push(Finding::at(Fact::Import(module), &node));
                }
            }
            "call_expression" | "new_expression" => call(&node, code, &mut found),
            "subscript_expression" => {
                let (Some(object), Some(index)) = (
                    node.child_by_field_name("object"),
                    node.child_by_field_name("index"),
                ) else {
                    continue;
                };
                let object = compact(&object, code);
                if !BUILTIN_OBJECTS.contains(&object.as_str()) && object != "this" {
                    continue;
                }
                match constant_string(&index, code) {
                    Some(name) => found.push(Finding::at(Fact::Call(name), &node)),
                    None => found.push(Finding::at(
                        Fact::Dynamic(format!("`{object}` indexed with a computed name")),
                        &node,
                    )),
                }
            }
            _ => {}
        }
    }
    found
}

fn call(node: &Node<'_>, code: &str, found: &mut Vec<Finding>) {
    let field = if node.kind() == "new_expression" {
        "constructor"
    } else {
        "function"
    };
    let Some(function) = node.child_by_field_name(field) else {
        return;
    };
    let callee = compact(&function, code);
    let first_argument = node.child_by_field_name("arguments").and_then(|list| {
        let mut cursor = list.walk();
        list.named_children(&mut cursor)
            .find(|arg| arg.kind() != "comment")
    });
    if function.kind() == "import" || callee == "require" || callee.ends_with(".require") {
        match first_argument.and_then(|arg| constant_string(&arg, code)) {
            Some(module) => found.push(Finding::at(Fact::Import(module), node)),
            None => found.push(Finding::at(
                Fact::Dynamic(format!("`{callee}` with a computed module name")),
                node,
            )),
        }
        return;
    }
    found.push(Finding::at(Fact::Call(callee), node));
}

/// The value of a string expression made only of literals: `'a'`, `` `a` ``, `'ev' + 'al'`.
fn constant_string(node: &Node<'_>, code: &str) -> Option<String> {
    match node.kind() {
        // A template with a `${..}` substitution has a non-fragment child: not a constant.
        "string" | "template_string" => {
            let mut cursor = node.walk();
            let mut text = String::new();
            for child in node.named_children(&mut cursor) {
                match child.kind() {
                    "string_fragment" => text.push_str(child.utf8_text(code.as_bytes()).ok()?),
                    _ => return None,
                }
            }
            Some(text)
        }
        "binary_expression" => {
            let operator = node.child_by_field_name("operator")?;
            if operator.kind() != "+" {
                return None;
            }
            let left = constant_string(&node.child_by_field_name("left")?, code)?;
            let right = constant_string(&node.child_by_field_name("right")?, code)?;
            Some(left + &right)
        }
        "parenthesized_expression" => {
            let mut cursor = node.walk();
            let inner = node.named_children(&mut cursor).next()?;
            constant_string(&inner, code)
        }
        _ => None,
    }
}
