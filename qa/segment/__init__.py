"""Page segmentation: split a Document's text into Articles (news pieces and photo captions).

Layout rules only (punctuation, line length, sentence completion, dateline / byline / photo
credit patterns), never words of particular articles. Steps:
1. lines with offsets, grouped into blocks at blank lines;
2. each line classified: title, kicker (■ …), byline, dateline line, photo credit, body;
3. column-break repair: a body line that stops mid-sentence is joined ("") to the next body line;
4. an interrupted paragraph (stops mid-sentence before a title/kicker) is resumed by a later
   paragraph that follows a title/dateline/credit line (a word spanning the junction wins);
5. paragraphs grouped into articles; titles may be printed before or after their body.
Conventions: an article's `title` is all its title lines in page order joined by one space
(a leading label such as 原标题： dropped); title and kicker lines stay out of the text.
Dateline, byline and photo credit lines are copied into their fields AND kept in the text where
printed (readers ask who wrote it, who took the photo, when it was filed): an opening dateline
stays at the start of the first paragraph, a byline/dateline/credit line is its own paragraph,
a trailing （记者…） stays; short subheads stay in the body as paragraphs.
Modules, in the order a page travels: `units` (lines classified, column breaks repaired),
`articles` (units grouped into Articles).
"""
from qa.segment.articles import segment_page

__all__ = ["segment_page"]
