"""Page segmentation: split a Document's text into Articles (news pieces and photo captions).

Shapes and learned weights, never words of particular articles. Steps, in the order a page
travels:
1. `units`: lines with offsets, grouped into blocks at blank lines; each line classified by its
   shape (kicker ■ …, byline, dateline line, photo credit, jump line 下转/上接, body, or a short
   unpunctuated line: a headline candidate); hard-wrapped column lines joined into paragraphs;
2. `signals`: the learned decisions (weights in qa/models/segmenter.json, fitted on generated
   pages by bench/fit_segmenter.py): where each headline candidate belongs (headline of the
   body above or below, subhead, or body text cut short), whether a new piece starts between
   two paragraphs, which later paragraph carries on one that stops mid-sentence;
3. `articles`: those decisions applied in page order and the Articles built with their offsets.
Conventions: an article's `title` is all its title lines in page order joined by one space
(a leading label such as 原标题： dropped); title and kicker lines stay out of the text.
Dateline, byline and photo credit lines are copied into their fields AND kept in the text where
printed (readers ask who wrote it, who took the photo, when it was filed): an opening dateline
stays at the start of the first paragraph, a byline/dateline/credit line is its own paragraph,
a trailing （记者…） stays; short subheads stay in the body as paragraphs.
"""
from qa.segment.articles import segment_page

__all__ = ["segment_page"]
