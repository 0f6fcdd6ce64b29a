//! `name_template`: the engine parses it with Go's text/template when a role is written and
//! runs it when credentials are requested. baogen is not Go, so it does not guess at Go's
//! grammar: it accepts a small, fully understood subset — literal text, `{{ }}` actions holding
//! pipelines of function calls, `.DisplayName`/`.RoleName`, string and integer literals,
//! parentheses, trim markers and comments — and refuses every other construct (`if`, `range`,
//! variables, `define`, ...) by name. Inside the subset it checks what Go would only find at
//! credential time: argument counts and types, field names, and that every name is unique.
//! tests/real/engine_differential.rs feeds generated templates to both and fails wherever the real
//! engine refuses one that baogen accepts.

/// Functions the engine's template helper registers (sdk/helper/template), with their
/// parameters; the value piped into a call is its last argument.
const FUNCS: [(&str, &[Param]); 16] = [
    ("random", &[Param::Int(1)]),
    ("truncate", &[Param::Int(1), Param::Str]),
    ("truncate_sha256", &[Param::Int(9), Param::Str]),
    ("uppercase", &[Param::Str]),
    ("lowercase", &[Param::Str]),
    ("replace", &[Param::Str, Param::Str, Param::Str]),
    ("sha256", &[Param::Str]),
    ("base64", &[Param::Str]),
    ("decode_base64", &[Param::Str]),
    ("hex", &[Param::Str]),
    ("decode_hex", &[Param::Str]),
    ("unix_time", &[]),
    ("unix_time_millis", &[]),
    ("timestamp", &[Param::Str]),
    ("uuid", &[]),
    // Go's own formatting functions, variadic (checked apart).
    ("printf", &[]),
];
/// Functions that make each generated name unique.
const UNIQUE: [&str; 4] = ["random", "unix_time", "unix_time_millis", "uuid"];
/// The data the engine renders names with (path_creds.go, `nameMetadata`).
const FIELDS: [&str; 2] = ["DisplayName", "RoleName"];
/// Go template keywords and the builtins baogen does not take in a name template.
const REFUSED_WORDS: [&str; 27] = [
    "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue",
    "nil", "true", "false", "and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "len", "index",
    "slice", "call", "glob",
];
/// Go's remaining builtins: known to Go, never useful in a Kubernetes name.
const OTHER_BUILTINS: [&str; 5] = ["html", "js", "urlquery", "print", "println"];
/// Parentheses nest at most this deep.
const MAX_DEPTH: usize = 16;

#[derive(Clone, Copy, PartialEq)]
enum Param {
    /// An integer literal of at least this value.
    Int(i64),
    Str,
}

#[derive(Clone, Copy, PartialEq)]
enum Type {
    Int(i64),
    Str,
}

#[derive(Debug, PartialEq)]
enum Tok<'a> {
    Ident(&'a str),
    Field(&'a str),
    Str,
    Int(i64),
    LParen,
    RParen,
    Pipe,
}

/// Check a name template; `Err` says what to change.
pub(super) fn name_template(t: &str) -> Result<(), String> {
    if t.trim().is_empty() {
        return Err("is empty; leave name_template out to use the engine's default".into());
    }
    let mut unique = false;
    let mut rest = t;
    loop {
        let (literal, action) = match rest.find("{{") {
            Some(i) => (&rest[..i], Some(&rest[i + 2..])),
            None => (rest, None),
        };
        if literal.contains("}}") {
            return Err("has '}}' without a matching '{{'".into());
        }
        if let Some(c) = literal
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
        {
            return Err(format!(
                "has literal text with '{c}', which is not allowed in a Kubernetes name (lower-case letters, digits, '-', '.')"
            ));
        }
        let Some(after) = action else { break };
        let (tokens, after) = lex_action(after)?;
        rest = after;
        if let Some(tokens) = tokens {
            let mut p = Parser {
                toks: &tokens,
                i: 0,
                unique: false,
            };
            p.pipeline(0)?;
            if p.i != tokens.len() {
                return Err("has an unexpected ')' in an action".into());
            }
            unique |= p.unique;
        }
    }
    if !unique {
        return Err(
            "never calls random, uuid, unix_time or unix_time_millis, so every credential request would generate the same object names and collide"
                .into(),
        );
    }
    Ok(())
}

/// Lex one action, the text after its `{{`: its tokens (`None` for a comment) and the text
/// after its `}}`.
fn lex_action(s: &str) -> Result<(Option<Vec<Tok<'_>>>, &str), String> {
    // A left trim marker is "-" and one space; "-" followed by anything else would be a
    // negative number in Go.
    let body = match s.strip_prefix("- ") {
        Some(b) => b,
        None if s.starts_with('-') => {
            return Err(
                "has '{{-' without a space after it; write '{{- ' to trim, or remove the '-'"
                    .into(),
            )
        }
        None => s,
    };
    if let Some(comment) = body.strip_prefix("/*") {
        let end = comment
            .find("*/")
            .ok_or("has an unterminated comment (/* without */)")?;
        let after = &comment[end + 2..];
        return match after.strip_prefix("}}").or_else(|| after.strip_prefix(" -}}")) {
            Some(rest) => Ok((None, rest)),
            None => Err("has a comment that does not end with '*/}}' (Go requires the comment to fill the whole action)".into()),
        };
    }
    let b = body.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    loop {
        let rest = &body[i..];
        if let Some(after) = rest
            .strip_prefix("}}")
            .or_else(|| rest.strip_prefix(" -}}"))
        {
            return Ok((Some(toks), after));
        }
        let Some(&c) = b.get(i) else {
            return Err("has a '{{' without a matching '}}'".into());
        };
        match c {
            b' ' | b'\t' => i += 1,
            b'\r' | b'\n' => return Err("has a line break inside an action".into()),
            b'|' => {
                toks.push(Tok::Pipe);
                i += 1;
            }
            b'(' => {
                toks.push(Tok::LParen);
                i += 1;
            }
            b')' => {
                toks.push(Tok::RParen);
                i += 1;
            }
            b'"' | b'`' => {
                let close = rest[1..]
                    .find(c as char)
                    .ok_or("has an unterminated string")?;
                let inner = &rest[1..1 + close];
                if c == b'"' && inner.contains('\\') {
                    return Err("has an escape sequence in a string; name templates need none (write the characters themselves)".into());
                }
                if inner.contains(['\n', '\r']) {
                    return Err("has a line break inside a string".into());
                }
                toks.push(Tok::Str);
                i += close + 2;
                terminator(body, i)?;
            }
            b'0'..=b'9' => {
                let len = rest.bytes().take_while(u8::is_ascii_digit).count();
                let digits = &rest[..len];
                if (digits.len() > 1 && digits.starts_with('0')) || digits.len() > 9 {
                    return Err(format!("has the number {digits}; write a plain decimal number without leading zeros, at most 9 digits"));
                }
                toks.push(Tok::Int(digits.parse().unwrap_or(0)));
                i += len;
                terminator(body, i)?;
            }
            b'.' => {
                let name = ident(&rest[1..]);
                if name.is_empty() {
                    return Err("uses '.' alone; use .DisplayName or .RoleName".into());
                }
                if !FIELDS.contains(&name) {
                    return Err(format!("uses the field .{name}, which the engine does not provide (only .DisplayName and .RoleName)"));
                }
                i += 1 + name.len();
                if b.get(i) == Some(&b'.') {
                    return Err(format!(".{name} is a string and has no fields"));
                }
                toks.push(Tok::Field(name));
                terminator(body, i)?;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let word = ident(rest);
                toks.push(Tok::Ident(word));
                i += word.len();
                terminator(body, i)?;
            }
            b'$' => return Err("uses a variable ($); baogen does not take variables in name templates".into()),
            b'-' | b'+' => return Err("has a sign; numbers in name templates are plain, and a trim marker needs a space before it (' -}}')".into()),
            b'\'' => return Err("has a character constant; write a string in double quotes".into()),
            _ => {
                let ch = rest.chars().next().unwrap_or(' ');
                return Err(format!("has an unexpected '{ch}' in an action"));
            }
        }
    }
}

/// What may follow a word or literal: Go's lexer refuses `random8x`, `"a"b`, `.RoleName+1`.
fn terminator(body: &str, i: usize) -> Result<(), String> {
    let rest = &body[i..];
    if rest.is_empty() || rest.starts_with([' ', '\t', '|', '(', ')']) || rest.starts_with("}}") {
        Ok(())
    } else {
        let ch = rest.chars().next().unwrap_or(' ');
        Err(format!(
            "has an unexpected '{ch}' right after a word; separate arguments with spaces"
        ))
    }
}

fn ident(s: &str) -> &str {
    let len = s
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    &s[..len]
}

struct Parser<'t, 'a> {
    toks: &'t [Tok<'a>],
    i: usize,
    unique: bool,
}

impl Parser<'_, '_> {
    /// `command ('|' command)*`; its result type.
    fn pipeline(&mut self, depth: usize) -> Result<Type, String> {
        if depth > MAX_DEPTH {
            return Err(format!("nests parentheses more than {MAX_DEPTH} deep"));
        }
        let mut piped = None;
        loop {
            piped = Some(self.command(piped, depth)?);
            if self.toks.get(self.i) == Some(&Tok::Pipe) {
                self.i += 1;
            } else {
                return Ok(piped.unwrap_or(Type::Str));
            }
        }
    }

    /// One command: a function call with its arguments, or a lone value in the first stage.
    fn command(&mut self, piped: Option<Type>, depth: usize) -> Result<Type, String> {
        let Some(first) = self.toks.get(self.i) else {
            return Err(if piped.is_some() {
                "has a '|' with no function after it".into()
            } else {
                "has an empty action or pipeline".into()
            });
        };
        if let Tok::Ident(name) = first {
            self.i += 1;
            let mut args = Vec::new();
            while let Some(t) = self.toks.get(self.i) {
                if matches!(t, Tok::Pipe | Tok::RParen) {
                    break;
                }
                args.push(self.operand(depth)?);
            }
            args.extend(piped);
            return self.call(name, &args);
        }
        let value = self.operand(depth)?;
        if self
            .toks
            .get(self.i)
            .is_some_and(|t| !matches!(t, Tok::Pipe | Tok::RParen))
        {
            return Err("gives arguments to a value that is not a function".into());
        }
        if piped.is_some() {
            return Err(
                "pipes into a value that is not a function; every stage after '|' must call one"
                    .into(),
            );
        }
        Ok(value)
    }

    /// An argument: a literal, a field, a parenthesized pipeline, or a function that takes none.
    fn operand(&mut self, depth: usize) -> Result<Type, String> {
        let t = self.toks.get(self.i).ok_or("has an unclosed '('")?;
        self.i += 1;
        match t {
            Tok::Str | Tok::Field(_) => Ok(Type::Str),
            Tok::Int(n) => Ok(Type::Int(*n)),
            Tok::Ident(name) => self.call(name, &[]),
            Tok::LParen => {
                let ty = self.pipeline(depth + 1)?;
                if self.toks.get(self.i) != Some(&Tok::RParen) {
                    return Err("has an unclosed '('".into());
                }
                self.i += 1;
                Ok(ty)
            }
            Tok::RParen => Err("has an unexpected ')'".into()),
            Tok::Pipe => Err("has a '|' with no value before it".into()),
        }
    }

    fn call(&mut self, name: &str, args: &[Type]) -> Result<Type, String> {
        if REFUSED_WORDS.contains(&name) {
            return Err(format!("uses '{name}', which baogen does not take in name templates (it accepts pipelines of the engine's functions only)"));
        }
        if OTHER_BUILTINS.contains(&name) {
            return Err(format!(
                "calls '{name}', which cannot help build a Kubernetes name; use printf"
            ));
        }
        let Some((_, params)) = FUNCS.iter().find(|(f, _)| *f == name) else {
            return Err(format!(
                "calls '{name}', which is not a template function the engine knows"
            ));
        };
        if UNIQUE.contains(&name) {
            self.unique = true;
        }
        if name == "printf" {
            return match args.first() {
                Some(Type::Str) => Ok(Type::Str),
                _ => Err("calls printf without a format string first".into()),
            };
        }
        if args.len() != params.len() {
            return Err(format!(
                "calls {name} with {} argument{}; it takes {}",
                args.len(),
                if args.len() == 1 { "" } else { "s" },
                params.len()
            ));
        }
        for (arg, param) in args.iter().zip(params.iter()) {
            match (param, arg) {
                (Param::Str, Type::Str) => {}
                (Param::Int(min), Type::Int(n)) if n >= min => {}
                (Param::Int(min), _) => {
                    return Err(format!(
                        "calls {name} with a length that is not a number of at least {min}"
                    ))
                }
                (Param::Str, Type::Int(_)) => {
                    return Err(format!(
                        "calls {name} with a number where it takes a string"
                    ))
                }
            }
        }
        Ok(Type::Str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engines_default_and_common_forms_pass() {
        for ok in [
            r#"{{ printf "v-%s-%s-%s-%s" (.DisplayName | truncate 8) (.RoleName | truncate 8) (unix_time) (random 24) | truncate 62 | lowercase }}"#,
            "ci-{{ random 10 }}",
            "{{- random 10 -}}",
            "{{/* a comment }} */}}x-{{ uuid }}",
            r#"{{ printf "}}" }}{{ uuid }}"#,
            "{{ .RoleName | truncate 8 }}-{{ random 8 | lowercase }}",
            "{{ 8 | random }}",
            "{{ replace \"_\" \"-\" .RoleName }}-{{ unix_time }}",
            "{{ printf \"%s\" uuid }}",
        ] {
            assert_eq!(name_template(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn constructs_outside_the_subset_are_refused_by_name() {
        for (bad, says) in [
            ("{{ end }}{{ random 4 }}", "'end'"),
            ("{{ if .RoleName }}a{{ end }}{{ uuid }}", "'if'"),
            ("{{ $x := 1 }}{{ uuid }}", "variable"),
            ("{{ break }}", "'break'"),
            ("{{ (random 4 }}", "unclosed '('"),
            ("{{ random 4) }}", "unexpected ')'"),
            ("{{ random }}", "with 0 arguments"),
            ("{{ random \"8\" }}", "not a number"),
            ("{{ truncate 0 .RoleName }}{{ uuid }}", "at least 1"),
            ("{{ .RoleName.X }}{{ uuid }}", "has no fields"),
            ("{{ .Nope }}{{ uuid }}", ".Nope"),
            ("{{ random 8 ", "without a matching"),
            ("{{ random 8 | }}", "no function after"),
            ("{{}}", "empty"),
            ("{{-random 8}}", "without a space"),
            ("{{ random 8-}}", "right after a word"),
            ("{{ random -8 }}", "sign"),
            ("{{ /* c */ }}{{ uuid }}", "unexpected '/'"),
            ("{{/* c */ x}}{{ uuid }}", "does not end"),
            ("{{ random 08 }}", "leading zeros"),
            ("{{ random 8x }}", "right after a word"),
            ("{{ \"a\\nb\" }}{{ uuid }}", "escape"),
            ("{{ .RoleName }}", "never calls"),
            ("{{ frobnicate 10 }}", "not a template function"),
            ("Upper-{{ random 10 }}", "literal text"),
            ("x}}{{ random 3 }}", "without a matching '{{'"),
        ] {
            let err = name_template(bad).expect_err(bad);
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
