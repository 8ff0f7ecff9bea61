//! Python facts, from the tree-sitter Python grammar.

use tree_sitter::{Node, Parser};

use super::{BUILTIN_OBJECTS, Fact, Finding, compact, nodes};

/// Imports, calls and dynamic accesses found in `code`.
pub(crate) fn findings(code: &str) -> Vec<Finding> {
    let mut parser = Parser::new();
    if parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
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
            "import_statement" => {
                let mut cursor = node.walk();
                for name in node.children_by_field_name("name", &mut cursor) {
                    let module = match name.kind() {
                        "aliased_import" => name
                            .child_by_field_name("name")
                            .map(|inner| compact(&inner, code)),
                        _ => Some(compact(&name, code)),
                    };
                    if let Some(module) = module {
                        found.push(Finding::at(Fact::Import(module), &node));
                    }
                }
            }
            "import_from_statement" => {
                if let Some(module) = node.child_by_field_name("module_name")
                    && module.kind() == "dotted_name"
                {
                    found.push(Finding::at(Fact::Import(compact(&module, code)), &node));
                }
            }
            "call" => call(&node, code, &mut found),
            "subscript" => {
                let Some(value) = node.child_by_field_name("value") else {
                    continue;
                };
                let object = compact(&value, code);
                if object == "sys.modules" {
                    let module = node
                        .child_by_field_name("subscript")
                        .and_then(|index| constant_string(&index, code));
                    found.push(Finding::at(
                        module.map_or_else(
                            || Fact::Dynamic("`sys.modules` indexed with a computed name".into()),
                            Fact::Import,
                        ),
                        &node,
                    ));
                    continue;
                }
                if !BUILTIN_OBJECTS.contains(&object.as_str()) {
                    continue;
                }
                let Some(index) = node.child_by_field_name("subscript") else {
                    continue;
                };
                match constant_string(&index, code) {
                    Some(name) => found.push(Finding::at(Fact::Call(name), &node)),
                    None => found.push(Finding::at(
                        Fact::Dynamic("builtins indexed with a computed name".to_owned()),
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
    let Some(function) = node.child_by_field_name("function") else {
        return;
    };
    let callee = compact(&function, code);
    found.push(Finding::at(Fact::Call(callee.clone()), node));
    let arguments: Vec<Node<'_>> = node
        .child_by_field_name("arguments")
        .map(|list| {
            let mut cursor = list.walk();
            list.named_children(&mut cursor)
                .filter(|arg| arg.kind() != "comment")
                .collect()
        })
        .unwrap_or_default();
    let importer = callee == "import_module"
        || callee.ends_with("__import__")
        || callee.ends_with("importlib.import_module");
    match callee.as_str() {
        _ if importer => match arguments.first().and_then(|arg| constant_string(arg, code)) {
            Some(module) => found.push(Finding::at(Fact::Import(module), node)),
            None => found.push(Finding::at(
                Fact::Dynamic(format!("`{callee}` with a computed module name")),
                node,
            )),
        },
        "getattr" | "setattr" | "delattr" | "hasattr" => {
            let [object, name, ..] = arguments.as_slice() else {
                return;
            };
            if !BUILTIN_OBJECTS.contains(&compact(object, code).as_str())
                && !is_module_object(object, code)
            {
                return;
            }
            match constant_string(name, code) {
                Some(name) => found.push(Finding::at(
                    Fact::Call(format!("{}.{name}", compact(object, code))),
                    node,
                )),
                None => found.push(Finding::at(
                    Fact::Dynamic(format!(
                        "`{callee}` on `{}` with a computed name",
                        compact(object, code)
                    )),
                    node,
                )),
            }
        }
        _ => {}
    }
}

/// `__import__('x')`-style objects passed to getattr.
fn is_module_object(node: &Node<'_>, code: &str) -> bool {
    node.kind() == "call"
        && node
            .child_by_field_name("function")
            .is_some_and(|function| compact(&function, code) == "__import__")
}

/// The value of a string expression made only of literals: `'a'`, `'a' 'b'`, `'ev' + 'al'`.
fn constant_string(node: &Node<'_>, code: &str) -> Option<String> {
    match node.kind() {
        "string" => {
            let mut cursor = node.walk();
            let mut text = String::new();
            for child in node.named_children(&mut cursor) {
                match child.kind() {
                    "string_start" | "string_end" => {}
                    "string_content" => text.push_str(child.utf8_text(code.as_bytes()).ok()?),
                    _ => return None,
                }
            }
            Some(text)
        }
        "concatenated_string" => {
            let mut cursor = node.walk();
            node.named_children(&mut cursor)
                .map(|part| constant_string(&part, code))
                .collect()
        }
        "binary_operator" => {
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
