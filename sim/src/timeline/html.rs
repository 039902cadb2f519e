//! The timeline as one self-contained HTML page: the data as JSON in the
//! page, drawn by the page's own script on a canvas (no network, no CDN;
//! it opens from `file://`). The page is `report.html`; this only puts the
//! data in.

use super::Timeline;

const TEMPLATE: &str = include_str!("report.html");
const PLACEHOLDER: &str = "/*TIMELINE*/";

/// The report page's text.
pub fn render_html(timeline: &Timeline) -> String {
    // Inside a script element only `</script` (and `<!--`) end or change
    // it: with every `<` escaped, no transcript text can, and the JSON
    // reads the same.
    let json = timeline.to_json().replace('<', "\\u003c");
    TEMPLATE.replacen(PLACEHOLDER, &json, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_has_one_place_for_the_data() {
        assert_eq!(TEMPLATE.matches(PLACEHOLDER).count(), 1);
    }
}
