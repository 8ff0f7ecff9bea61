//! `CodePolicy`: checks code before it is sent.
//!
//! **A speed bump, not a wall.** The policy parses Python and JavaScript (with tree-sitter
//! grammars, not regular expressions) and refuses code that imports denied modules, calls
//! denied functions, or reaches builtins through names computed at run time. It catches the
//! obvious and the lazy; a determined author can always write code it does not understand
//! (and code in Java or R is only size-checked). The sandbox is the wall: isolation,
//! resource limits and no network are what keep untrusted code in. Use the policy to fail
//! fast, to keep well-meaning agents on the path, and to log what they try.
//!
//! ```
//! use agbcloud_session::{CodePolicy, Language};
//!
//! let policy = CodePolicy::recommended();
//! let refused = policy.check("x = 1\nfrom os import system\n", Language::Python).unwrap_err();
//! assert_eq!(refused.rule, "deny-import:os");
//! assert_eq!(refused.line, 2);
//! assert!(policy.check("print(sum(range(10)))", Language::Python).is_ok());
//! ```

mod javascript;
mod python;

use agbcloud_wire::tools::code::Language;

/// What a rule forbids.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuleKind {
    /// Importing this module or any of its submodules (`os` also covers `os.path`), by any
    /// import form, including `__import__('os')`, `importlib.import_module('os')`,
    /// `require('os')` and `import('os')`.
    DenyImport(String),
    /// Calling this function: a plain name (`eval`, also reached as `builtins.eval` or
    /// `getattr(__builtins__, 'eval')`) or a dotted path (`os.system`).
    DenyCall(String),
    /// Reaching builtins, globals or modules through a name computed at run time
    /// (`getattr(__builtins__, 'ev' + x)`, `__import__(name)`, `require(name)`,
    /// `globalThis[name]`).
    DenyDynamicAccess,
}

/// One rule: a kind, the language it applies to, and the name reported on a rejection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The rule's name, e.g. `deny-import:os`.
    pub name: String,
    /// The language it applies to.
    pub language: Language,
    /// What it forbids.
    pub kind: RuleKind,
}

impl Rule {
    /// A rule with a generated name (`deny-import:<m>`, `deny-call:<f>`, `deny-dynamic-access`).
    pub fn new(language: Language, kind: RuleKind) -> Self {
        let name = match &kind {
            RuleKind::DenyImport(module) => format!("deny-import:{module}"),
            RuleKind::DenyCall(function) => format!("deny-call:{function}"),
            RuleKind::DenyDynamicAccess => "deny-dynamic-access".to_owned(),
        };
        Self {
            name,
            language,
            kind,
        }
    }
}

/// Why code was refused: the rule, where, and what was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule `{rule}` at line {line}, column {column}: {detail}")]
pub struct PolicyViolation {
    /// The rule's name.
    pub rule: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (bytes).
    pub column: usize,
    /// What was found.
    pub detail: String,
}

/// A set of rules and a size limit, checked before code is sent. See the module docs: a
/// speed bump, not a wall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodePolicy {
    max_code_bytes: usize,
    rules: Vec<Rule>,
}

impl Default for CodePolicy {
    /// No rules; a 1 MiB size limit.
    fn default() -> Self {
        Self {
            max_code_bytes: 1 << 20,
            rules: Vec::new(),
        }
    }
}

impl CodePolicy {
    /// No rules; a 1 MiB size limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// A reasonable start for model-written code: no process, network or FFI modules, no
    /// `eval`/`exec`-style calls, no dynamic access to builtins; 100 KB at most.
    pub fn recommended() -> Self {
        let mut policy = Self::new().max_code_bytes(100_000);
        for module in [
            "os",
            "subprocess",
            "socket",
            "ctypes",
            "pty",
            "importlib",
            "multiprocessing",
        ] {
            policy = policy.deny_import(Language::Python, module);
        }
        for function in ["eval", "exec", "compile", "__import__", "breakpoint"] {
            policy = policy.deny_call(Language::Python, function);
        }
        for module in [
            "child_process",
            "cluster",
            "worker_threads",
            "vm",
            "net",
            "dgram",
        ] {
            policy = policy.deny_import(Language::JavaScript, module);
        }
        for function in ["eval", "Function", "process.binding", "process.dlopen"] {
            policy = policy.deny_call(Language::JavaScript, function);
        }
        policy
            .deny_dynamic_access(Language::Python)
            .deny_dynamic_access(Language::JavaScript)
    }

    /// Refuses code longer than `max` bytes (any language).
    #[must_use]
    pub fn max_code_bytes(mut self, max: usize) -> Self {
        self.max_code_bytes = max;
        self
    }

    /// Adds a rule.
    #[must_use]
    pub fn rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Denies importing `module` (and its submodules) in `language`.
    #[must_use]
    pub fn deny_import(self, language: Language, module: &str) -> Self {
        self.rule(Rule::new(language, RuleKind::DenyImport(module.to_owned())))
    }

    /// Denies calling `function` in `language`.
    #[must_use]
    pub fn deny_call(self, language: Language, function: &str) -> Self {
        self.rule(Rule::new(language, RuleKind::DenyCall(function.to_owned())))
    }

    /// Denies dynamic access to builtins, globals and modules in `language`.
    #[must_use]
    pub fn deny_dynamic_access(self, language: Language) -> Self {
        self.rule(Rule::new(language, RuleKind::DenyDynamicAccess))
    }

    /// The rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Checks `code`: the first violation in source order, or `Ok`.
    pub fn check(&self, code: &str, language: Language) -> Result<(), PolicyViolation> {
        if code.len() > self.max_code_bytes {
            let line = code[..floor_char_boundary(code, self.max_code_bytes)]
                .matches('\n')
                .count()
                + 1;
            return Err(PolicyViolation {
                rule: "max-size".to_owned(),
                line,
                column: 1,
                detail: format!(
                    "code is {} bytes, more than the limit of {}",
                    code.len(),
                    self.max_code_bytes
                ),
            });
        }
        let rules: Vec<&Rule> = self
            .rules
            .iter()
            .filter(|rule| rule.language == language)
            .collect();
        if rules.is_empty() {
            return Ok(());
        }
        let findings = match language {
            Language::Python => python::findings(code),
            Language::JavaScript => javascript::findings(code),
            Language::Java | Language::R => return Ok(()),
        };
        let mut violations: Vec<PolicyViolation> = findings
            .iter()
            .filter_map(|finding| finding.violation(&rules))
            .collect();
        violations.sort_by_key(|violation| (violation.line, violation.column));
        violations.into_iter().next().map_or(Ok(()), Err)
    }
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// What the language analysers report: facts, judged against the rules here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fact {
    /// A module is imported (statically or with a literal name).
    Import(String),
    /// A function is called, by its (dotted) name.
    Call(String),
    /// A name computed at run time reaches builtins, globals or a module loader.
    Dynamic(String),
}

/// A fact at a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub(crate) fact: Fact,
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl Finding {
    pub(crate) fn at(fact: Fact, node: &tree_sitter::Node<'_>) -> Self {
        let position = node.start_position();
        Self {
            fact,
            line: position.row + 1,
            column: position.column + 1,
        }
    }

    fn violation(&self, rules: &[&Rule]) -> Option<PolicyViolation> {
        let rule = rules.iter().find(|rule| match (&rule.kind, &self.fact) {
            (RuleKind::DenyImport(denied), Fact::Import(module)) => {
                let module = module.strip_prefix("node:").unwrap_or(module);
                module == denied
                    || module.starts_with(&format!("{denied}."))
                    || module.starts_with(&format!("{denied}/"))
            }
            (RuleKind::DenyCall(denied), Fact::Call(function)) => {
                function == denied
                    || BUILTIN_OBJECTS
                        .iter()
                        .any(|object| *function == format!("{object}.{denied}"))
            }
            (RuleKind::DenyDynamicAccess, Fact::Dynamic(_)) => true,
            _ => false,
        })?;
        let detail = match &self.fact {
            Fact::Import(module) => format!("import of `{module}`"),
            Fact::Call(function) => format!("call of `{function}`"),
            Fact::Dynamic(what) => what.clone(),
        };
        Some(PolicyViolation {
            rule: rule.name.clone(),
            line: self.line,
            column: self.column,
            detail,
        })
    }
}

/// Objects whose attributes are the builtins or globals.
pub(crate) const BUILTIN_OBJECTS: &[&str] = &[
    "__builtins__",
    "builtins",
    "__builtins__.__dict__",
    "builtins.__dict__",
    "globals()",
    "locals()",
    "vars()",
    "vars(__builtins__)",
    "vars(builtins)",
    "globalThis",
    "global",
    "window",
    "self",
];

/// The nodes of `tree` in source order (iterative, so deep code cannot overflow the stack).
pub(crate) fn nodes(tree: &tree_sitter::Tree) -> Vec<tree_sitter::Node<'_>> {
    let mut out = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        out.push(node);
        let mut cursor = node.walk();
        let children: Vec<_> = node.children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    out
}

/// A node's source text with all whitespace removed.
pub(crate) fn compact(node: &tree_sitter::Node<'_>, code: &str) -> String {
    node.utf8_text(code.as_bytes())
        .unwrap_or_default()
        .split_whitespace()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: &str, language: Language) -> PolicyViolation {
        match CodePolicy::recommended().check(code, language) {
            Err(violation) => violation,
            Ok(()) => panic!("expected a refusal of {code:?}"),
        }
    }

    #[test]
    fn catches_the_three_classic_python_escapes() {
        let dunder = refused("x = 1\n__import__('os').system('id')\n", Language::Python);
        assert_eq!(dunder.line, 2);
        assert!(
            dunder.rule == "deny-call:__import__" || dunder.rule == "deny-import:os",
            "{dunder}"
        );
        let from = refused("from os import system\nsystem('id')", Language::Python);
        assert_eq!((from.rule.as_str(), from.line), ("deny-import:os", 1));
        let getattr = refused(
            "import math\n\n\nf = getattr(__builtins__, 'ev' + 'al')\n",
            Language::Python,
        );
        assert_eq!(getattr.line, 4);
        assert!(
            getattr.rule == "deny-call:eval" || getattr.rule == "deny-dynamic-access",
            "{getattr}"
        );
        let computed = refused(
            "n = input()\ngetattr(__builtins__, n)('1')",
            Language::Python,
        );
        assert_eq!(computed.rule, "deny-dynamic-access");
    }

    #[test]
    fn catches_other_python_forms() {
        for code in [
            "import os",
            "import os.path as p",
            "import subprocess, json",
            "import importlib\nimportlib.import_module('os')",
            "eval('1')",
            "builtins.exec('x')",
            "__builtins__.__dict__['ev' + 'al']('1')",
            "def f():\n    return compile('1', 'f', 'eval')",
            "__builtins__.__import__('subprocess')",
            "import sys\nsys.modules['os'].system('id')",
            "from os.path import join",
            "from os import *",
        ] {
            refused(code, Language::Python);
        }
    }

    #[test]
    fn lets_ordinary_python_through() {
        let policy = CodePolicy::recommended();
        for code in [
            "import math, json\nprint(math.sqrt(2))",
            "from collections import OrderedDict",
            "s = 'import os'  # a string, not an import\nprint(s)",
            "getattr(obj, name)",
            "x = {'eval': 1}\nprint(x['eval'])",
            "def evaluate(x): return x\nevaluate(1)",
        ] {
            assert_eq!(policy.check(code, Language::Python), Ok(()), "{code}");
        }
    }

    #[test]
    fn catches_javascript_escapes() {
        for (code, rule) in [
            (
                "const cp = require('child_process');",
                "deny-import:child_process",
            ),
            (
                "import { exec } from 'node:child_process';",
                "deny-import:child_process",
            ),
            ("await import('vm')", "deny-import:vm"),
            ("eval('1')", "deny-call:eval"),
            ("new Function('return 1')()", "deny-call:Function"),
            (
                "const m = 'child' + '_process'; require(m)",
                "deny-dynamic-access",
            ),
            ("globalThis['ev' + 'al']('1')", "deny-call:eval"),
            ("require(`child_process`)", "deny-import:child_process"),
            ("globalThis[`ev` + `al`]('1')", "deny-call:eval"),
            ("process.binding('spawn_sync')", "deny-call:process.binding"),
            (
                "process.mainModule.require('child_process')",
                "deny-import:child_process",
            ),
        ] {
            assert_eq!(refused(code, Language::JavaScript).rule, rule, "{code}");
        }
        assert_eq!(
            CodePolicy::recommended().check(
                "const fs = require('fs'); console.log([1,2].map(x => x * 2))",
                Language::JavaScript
            ),
            Ok(())
        );
    }

    #[test]
    fn limits_size_and_names_the_line() {
        let policy = CodePolicy::new().max_code_bytes(10);
        let violation = policy
            .check("a = 1\nb = 2\nc = 3\n", Language::R)
            .unwrap_err();
        assert_eq!((violation.rule.as_str(), violation.line), ("max-size", 2));
        assert!(violation.to_string().contains("line 2"));
    }
}
