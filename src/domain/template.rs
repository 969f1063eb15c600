//! Welcome-message tags and markdown. Tags are plain substitution of a fixed list of names
//! in one pass: nothing can execute, and substituted text is never scanned again.

/// Values for the tags a message may use.
#[derive(Debug, Clone, Default)]
pub struct TagValues {
    /// `{{ first_name }}`
    pub first_name: String,
    /// `{{ last_name }}`
    pub last_name: String,
    /// `{{ username }}`
    pub username: String,
    /// `{{ admin_first_name }}`
    pub admin_first_name: String,
    /// `{{ admin_last_name }}`
    pub admin_last_name: String,
    /// `{{ admin_email }}`
    pub admin_email: String,
    /// `{{ admin_phone }}`
    pub admin_phone: String,
    /// `{{ url }}`
    pub url: String,
    /// `{{ instance_name }}`
    pub instance_name: String,
}

/// Every tag name, in the order the settings page lists them.
pub const TAGS: [&str; 9] = [
    "instance_name",
    "first_name",
    "last_name",
    "username",
    "admin_first_name",
    "admin_last_name",
    "admin_email",
    "admin_phone",
    "url",
];

impl TagValues {
    fn get(&self, tag: &str) -> Option<&str> {
        Some(match tag {
            "first_name" => &self.first_name,
            "last_name" => &self.last_name,
            "username" => &self.username,
            "admin_first_name" => &self.admin_first_name,
            "admin_last_name" => &self.admin_last_name,
            "admin_email" => &self.admin_email,
            "admin_phone" => &self.admin_phone,
            "url" => &self.url,
            "instance_name" => &self.instance_name,
            _ => return None,
        })
    }

    /// Example values for previews.
    pub fn sample(url: &str, instance_name: &str) -> Self {
        Self {
            instance_name: instance_name.into(),
            first_name: "Jan".into(),
            last_name: "Nowak".into(),
            username: "jnowak".into(),
            admin_first_name: "Ada".into(),
            admin_last_name: "Admin".into(),
            admin_email: "ada@example.com".into(),
            admin_phone: "+48 123 456 789".into(),
            url: url.into(),
        }
    }
}

/// Replaces `{{ tag }}` (spaces optional) with its value; unknown tags stay as written.
pub fn substitute(template: &str, values: &TagValues) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => match values.get(after[..end].trim()) {
                Some(value) => {
                    out.push_str(value);
                    rest = &after[end + 2..];
                }
                None => {
                    out.push_str("{{");
                    rest = after;
                }
            },
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{{ tags }}` in `template` that are not tags onramp knows, each once, in order.
pub fn unknown_tags(template: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim();
        if TAGS.contains(&name) {
            rest = &after[end + 2..];
            continue;
        }
        // "{{{{ tag }}}}" holds a known tag one level in; only the innermost braces count.
        if name.contains("{{") {
            rest = after;
            continue;
        }
        let written = format!("{{{{ {name} }}}}");
        if !found.contains(&written) {
            found.push(written);
        }
        rest = &after[end + 2..];
    }
    found
}

/// Renders markdown as readable plain text for an email's text part: no `#` or `**`, list
/// items as "- ", links as "text (url)".
pub fn markdown_to_text(markdown: &str) -> String {
    use pulldown_cmark::{Event, Tag, TagEnd};
    let mut out = String::new();
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut links: Vec<(String, usize)> = Vec::new();
    let parser = pulldown_cmark::Parser::new_ext(
        markdown,
        pulldown_cmark::Options::ENABLE_TABLES | pulldown_cmark::Options::ENABLE_STRIKETHROUGH,
    );
    for event in parser {
        match event {
            Event::Start(Tag::List(first)) => {
                if !lists.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                lists.push(first);
            }
            Event::End(TagEnd::List(_)) => {
                lists.pop();
                if lists.is_empty() {
                    out.push('\n');
                }
            }
            Event::Start(Tag::Item) => {
                out.push_str(&"  ".repeat(lists.len().saturating_sub(1)));
                match lists.last_mut() {
                    Some(Some(n)) => {
                        out.push_str(&format!("{n}. "));
                        *n += 1;
                    }
                    _ => out.push_str("- "),
                }
            }
            Event::End(TagEnd::Item) if !out.ends_with('\n') => out.push('\n'),
            Event::End(TagEnd::Paragraph) if lists.is_empty() => out.push_str("\n\n"),
            Event::End(TagEnd::Heading(_) | TagEnd::CodeBlock | TagEnd::Table) => {
                out.push_str("\n\n");
            }
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => out.push('\n'),
            Event::End(TagEnd::TableCell) => out.push_str("  "),
            Event::Start(Tag::Link { dest_url, .. }) => {
                links.push((dest_url.into_string(), out.len()));
            }
            Event::End(TagEnd::Link) => {
                if let Some((url, at)) = links.pop() {
                    let text = out.get(at..).unwrap_or_default().trim().to_owned();
                    let bare = url.strip_prefix("mailto:").unwrap_or(&url);
                    if text.is_empty() {
                        out.push_str(bare);
                    } else if text != bare && text != url {
                        out.push_str(&format!(" ({url})"));
                    }
                }
            }
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            Event::Rule => out.push_str("----\n\n"),
            _ => {}
        }
    }
    let mut text = String::with_capacity(out.len());
    let mut blank_lines = 0;
    for line in out.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_lines += 1;
            if blank_lines > 1 {
                continue;
            }
        } else {
            blank_lines = 0;
        }
        text.push_str(line);
        text.push('\n');
    }
    let trimmed = text.trim();
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}\n")
    }
}

/// Renders markdown to HTML and sanitises it: no script, no event handlers, no styles.
pub fn markdown_to_safe_html(markdown: &str) -> String {
    let parser = pulldown_cmark::Parser::new_ext(
        markdown,
        pulldown_cmark::Options::ENABLE_TABLES | pulldown_cmark::Options::ENABLE_STRIKETHROUGH,
    );
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .clean(&html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_substituted_once() {
        let mut v = TagValues::sample("https://vpn.example.com", "Acme VPN");
        v.first_name = "{{ username }}".into();
        assert_eq!(
            substitute("Hi {{first_name}}, see {{ url }}.", &v),
            "Hi {{ username }}, see https://vpn.example.com."
        );
        assert_eq!(
            substitute("{{ unknown }} {{ username", &v),
            "{{ unknown }} {{ username"
        );
        assert_eq!(substitute("{{{{ username }}}}", &v), "{{jnowak}}");
        assert_eq!(substitute("no tags", &v), "no tags");
    }

    #[test]
    fn template_engines_syntax_does_nothing() {
        let v = TagValues::sample("u", "Acme VPN");
        for attempt in [
            "{{ 7*7 }}",
            "{{ config }}",
            "{% for x in y %}",
            "${7*7}",
            "{{ self.__init__ }}",
            "<%= 7*7 %>",
        ] {
            assert_eq!(substitute(attempt, &v), attempt);
        }
    }

    #[test]
    fn unknown_tags_are_named_once() {
        assert_eq!(
            unknown_tags("Hi {{ first_name }} {{ unknown_tag }} {{unknown_tag}} {{ 7*7 }} {{ instance_name }}"),
            ["{{ unknown_tag }}", "{{ 7*7 }}"]
        );
        assert!(unknown_tags("{{{{ username }}}} and {{ url").is_empty());
    }

    #[test]
    fn markdown_reads_as_plain_text() {
        let text = markdown_to_text(
            "## Welcome, Jan!\n\nYour account **jnowak** is *ready*.\n\nNext:\n\n- read the [handbook](https://example.com/hb),\n- see https://example.com\n\n1. one\n2. two\n\nWrite to <ada@example.com>.",
        );
        assert_eq!(
            text,
            "Welcome, Jan!\n\nYour account jnowak is ready.\n\nNext:\n\n- read the handbook (https://example.com/hb),\n- see https://example.com\n\n1. one\n2. two\n\nWrite to ada@example.com.\n"
        );
    }

    #[test]
    fn markdown_is_sanitised() {
        let html = markdown_to_safe_html("# Hi\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)> **bold**");
        assert!(html.contains("<h1>Hi</h1>"));
        assert!(html.contains("<strong>bold</strong>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("javascript:"));
        assert!(!html.contains("onerror"));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Substitution is one pass: a value holding tag syntax comes out verbatim, and text
        /// without `{{` is never changed.
        #[test]
        fn values_are_inserted_verbatim(value in "[ -~]{0,40}", text in "[ -z|~]{0,60}") {
            let v = TagValues { first_name: value.clone(), ..TagValues::sample("https://x", "Acme") };
            prop_assert_eq!(substitute("{{ first_name }}", &v), value);
            if !text.contains("{{") {
                prop_assert_eq!(substitute(&text, &v), text);
            }
        }

        /// Whatever the input, the rendered markdown holds no script and no event handler.
        #[test]
        fn markdown_output_is_always_sanitised(md in "\\\\PC{0,200}") {
            let html = markdown_to_safe_html(&md).to_lowercase();
            prop_assert!(!html.contains("<script"));
            prop_assert!(!html.contains(" onerror="));
            prop_assert!(!html.contains("javascript:"));
        }
    }
}
