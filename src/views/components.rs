//! Small pieces shared by screens: form fields, error summaries, notices.

use crate::domain::FieldError;
use maud::{html, Markup};

/// The message for `field`, if any.
pub fn error_for<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.as_str())
}

/// How a text input is shown.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Form field name; also the element id.
    pub name: &'a str,
    /// The visible label.
    pub label: &'a str,
    /// `text`, `email`, `tel`, `password`, ...
    pub kind: &'a str,
    /// Current value.
    pub value: &'a str,
    /// Help text under the label.
    pub hint: Option<&'a str>,
    /// Whether the field must be filled in.
    pub required: bool,
    /// The `autocomplete` attribute.
    pub autocomplete: &'a str,
    /// Read-only display.
    pub readonly: bool,
    /// Longest accepted value.
    pub maxlength: u32,
}

impl<'a> Input<'a> {
    /// A required text field.
    pub fn new(name: &'a str, label: &'a str, value: &'a str) -> Self {
        Self {
            name,
            label,
            kind: "text",
            value,
            hint: None,
            required: true,
            autocomplete: "off",
            readonly: false,
            maxlength: 254,
        }
    }
}

/// A labelled input with its hint and inline error, wired with aria-describedby.
pub fn field(input: Input<'_>, errors: &[FieldError]) -> Markup {
    let error = error_for(errors, input.name);
    let hint_id = format!("{}-hint", input.name);
    let error_id = format!("{}-error", input.name);
    let described: Vec<&str> = [
        input.hint.map(|_| hint_id.as_str()),
        error.map(|_| error_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let described = (!described.is_empty()).then(|| described.join(" "));
    html! {
        div class="field" {
            label for=(input.name) { (input.label) @if !input.required { " " span class="muted" { "(optional)" } } }
            @if let Some(hint) = input.hint { div class="hint" id=(hint_id) { (hint) } }
            input id=(input.name) name=(input.name) type=(input.kind) value=(input.value)
                required[input.required] readonly[input.readonly] maxlength=(input.maxlength)
                autocomplete=(input.autocomplete)
                aria-invalid=[error.map(|_| "true")] aria-describedby=[described];
            @if let Some(message) = error { div class="field-error" id=(error_id) { (message) } }
        }
    }
}

/// A summary at the top of a form that failed, listing each problem.
pub fn error_summary(errors: &[FieldError]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div class="form-errors" role="alert" tabindex="-1" {
                p { strong { "Please correct the following:" } }
                ul { @for e in errors { li { a href=(format!("#{}", e.field)) { (e.message) } } } }
            }
        }
    }
}

/// Text that may wrap only at sensible points: after `@`, `.`, `:`, `/`, `,` and `-`, as
/// long emails, addresses and endpoints should, never in the middle of a word.
pub fn breakable(text: &str) -> Markup {
    let mut pieces = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if matches!(c, '@' | '.' | ':' | '/' | ',' | '-') {
            let end = i + c.len_utf8();
            pieces.push(&text[start..end]);
            start = end;
        }
    }
    pieces.push(&text[start..]);
    html! {
        @for (i, piece) in pieces.iter().enumerate() {
            @if i > 0 { wbr; }
            (piece)
        }
    }
}

/// A notice after a successful action.
pub fn flash(message: Option<&str>) -> Markup {
    html! { @if let Some(m) = message { div class="flash" role="status" { (m) } } }
}

/// An error notice that is not tied to a field.
pub fn flash_error(message: Option<&str>) -> Markup {
    html! { @if let Some(m) = message { div class="flash flash-error" role="alert" { (m) } } }
}

/// A labelled multi-line text field with hint and inline error.
pub fn textarea(
    name: &str,
    label: &str,
    value: &str,
    hint: Option<&str>,
    rows: u32,
    errors: &[FieldError],
    extra: Markup,
) -> Markup {
    let error = error_for(errors, name);
    let hint_id = format!("{name}-hint");
    let error_id = format!("{name}-error");
    let described: Vec<&str> = [
        hint.map(|_| hint_id.as_str()),
        error.map(|_| error_id.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let described = (!described.is_empty()).then(|| described.join(" "));
    html! {
        div class="field" {
            label for=(name) { (label) }
            @if let Some(h) = hint { div class="hint" id=(hint_id) { (h) } }
            textarea id=(name) name=(name) rows=(rows) aria-invalid=[error.map(|_| "true")] aria-describedby=[described] { (value) }
            (extra)
            @if let Some(message) = error { div class="field-error" id=(error_id) { (message) } }
        }
    }
}

/// A group of radio buttons with a legend.
pub fn radios(
    name: &str,
    legend: &str,
    options: &[(&str, &str)],
    selected: &str,
    errors: &[FieldError],
) -> Markup {
    let error = error_for(errors, name);
    html! {
        fieldset class="field" aria-invalid=[error.map(|_| "true")] {
            legend { (legend) }
            @for (value, label) in options {
                label class="checkbox" {
                    input type="radio" name=(name) value=(value) checked[*value == selected];
                    " " (label)
                }
            }
            @if let Some(message) = error { div class="field-error" id=(format!("{name}-error")) { (message) } }
        }
    }
}

/// A group of checkboxes with a legend, one per `(value, label)` and checked when its value
/// is in `checked`. Without JavaScript the browser posts `name` once per checked box; an
/// empty `options` shows `empty` instead.
pub fn checkboxes(
    name: &str,
    legend: &str,
    options: &[(String, String)],
    checked: &[String],
    empty: Markup,
    errors: &[FieldError],
) -> Markup {
    let error = error_for(errors, name);
    let error_id = format!("{name}-error");
    html! {
        fieldset class="field" id=(name) aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| error_id.as_str())] {
            legend { (legend) }
            @if options.is_empty() { p class="hint" { (empty) } }
            @for (value, label) in options {
                label class="checkbox" {
                    input type="checkbox" name=(name) value=(value) checked[checked.contains(value)];
                    " " (label)
                }
            }
            @if let Some(message) = error { div class="field-error" id=(error_id) { (message) } }
        }
    }
}

/// A QR code of `data` as inline SVG (without the XML prolog), for a secret shown once: it
/// is drawn here, so the secret never goes to a third party.
pub fn qr_svg(data: &str) -> Result<String, qrcode::types::QrError> {
    let svg = qrcode::QrCode::new(data.as_bytes())?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .build();
    Ok(svg
        .find("<svg")
        .map_or(svg.as_str(), |i| &svg[i..])
        .to_owned())
}

#[cfg(test)]
mod tests {
    use super::breakable;

    #[test]
    fn long_text_may_break_only_after_separators() {
        assert_eq!(
            breakable("jan.nowak@example.com").into_string(),
            "jan.<wbr>nowak@<wbr>example.<wbr>com"
        );
        assert_eq!(breakable("<b>").into_string(), "&lt;b&gt;");
    }
}
