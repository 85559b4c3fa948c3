"""kefu — form helpers of the staff journeys (staff.py, approver.py): a tap
that the sticky header cannot cover, and a value set as typing would set it
(date fields, whose native picker Selenium cannot type into portably)."""


def tap(b, css, text=None):
    """Clicks like a finger: the element scrolled to the middle first (the
    header is sticky and would cover it at the top)."""
    el = b.wait(css, text)
    b.js("arguments[0].scrollIntoView({block: 'center'});", el)
    el.click()
    return el


def set_value(b, css, value):
    """Sets an input or a select (a date field too) as a person would: both
    input and change are sent, whichever the screen listens to."""
    el = b.wait(css)
    b.js("""const [el, v] = arguments;
        const set = Object.getOwnPropertyDescriptor(el.__proto__, 'value').set;
        set.call(el, v);
        el.dispatchEvent(new Event('input', {bubbles: true}));
        el.dispatchEvent(new Event('change', {bubbles: true}));""", el, value)


def in_english(b, shot, heading, english, chinese, also):
    """Switches the console to English, checks the heading (css) reads
    english and every (css, text) of also is shown, takes the screenshot
    shot, and switches back to Chinese."""
    tap(b, "button.lang-switch")
    b.wait(heading, english)
    for css, text in also:
        b.wait(css, text)
    b.shot(shot)
    tap(b, "button.lang-switch")
    b.wait(heading, chinese)
