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
}

/// Every tag name, in the order the settings page lists them.
pub const TAGS: [&str; 8] = [
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
            _ => return None,
        })
    }

    /// Example values for previews.
    pub fn sample(url: &str) -> Self {
        Self {
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
        let mut v = TagValues::sample("https://vpn.example.com");
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
        let v = TagValues::sample("u");
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
            let v = TagValues { first_name: value.clone(), ..TagValues::sample("https://x") };
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
