"""kefu — what every browser journey uses: a real headless Chromium (Debian's
chromium and chromedriver, driven by python3-selenium) on the console that
kefu-gateway serves, and the store and clients beside it for checking.

A journey is a script calling run(main): main(ctx) opens browsers with
ctx.browser(...), acts as a person would, and raises (check() or a timeout)
when something is wrong. Every browser is closed at the end, a failing
journey leaves a screenshot of each open browser, and the console of every
browser must be free of script errors and Content-Security-Policy
violations. Timings measured in the browser are printed as
`timing NAME MS` lines (reported, never asserted).

Environment (browser_lib.sh sets it): KEFU_URL, KEFU_SHOTS, KEFU_PASSWORD,
KEFU_BROWSER_HOME, KEFU_DATABASE_URL, KEFU_BUILD_DIR, IT_DIR.
"""
import json
import os
import subprocess
import sys
import time
import traceback

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

URL = os.environ.get("KEFU_URL", "http://127.0.0.1:8080")
SHOTS = os.environ.get("KEFU_SHOTS", "/tmp/kefu-shots")
PASSWORD = os.environ.get("KEFU_PASSWORD", "kefu-demo-2026")
HOME = os.environ.get("KEFU_BROWSER_HOME", "/tmp/kefu-chromium")
BUILD = os.environ.get("KEFU_BUILD_DIR", "build")
IT_DIR = os.environ.get("IT_DIR", "/tmp")

DESK = (1366, 768)      # a call-centre screen
PHONE = (390, 844)      # an approver's phone
WAIT_S = 15             # the longest any one step may take



class JourneyError(AssertionError):
    """A check of a journey failed."""


def check(cond, what):
    """Fails the journey with what unless cond."""
    if not cond:
        raise JourneyError(what)


def note(text):
    print("journey: %s" % text, flush=True)


def timing(name, ms):
    """Reports a timing measured in the browser (never asserted)."""
    print("timing %s %.0f" % (name, ms), flush=True)


class Browser:
    """One Chromium window of one person."""

    count = 0

    def __init__(self, ctx, name, size=DESK, lang="zh-CN"):
        Browser.count += 1
        self.ctx, self.name, self.shot_no = ctx, name, 0
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--no-first-run", "--disable-extensions",
                    "--disable-crash-reporter", "--disable-breakpad", "--lang=%s" % lang,
                    "--window-size=%d,%d" % size,
                    "--user-data-dir=%s/%s-%d" % (HOME, name, Browser.count)):
            opts.add_argument(arg)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service("/usr/bin/chromedriver",
                          log_path="%s/chromedriver-%s.log" % (HOME, name))
        # The browser's own zone is UTC: the console must show Asia/Shanghai
        # times from the session, whatever the machine says.
        service.env = dict(os.environ, TZ="UTC")
        self.driver = webdriver.Chrome(service=service, options=opts)
        self.driver.set_window_size(*size)
        self.driver.set_script_timeout(WAIT_S)
        self.seen_logs = []

    # ---- moving around
    def open(self, hash_path=""):
        """Loads the console at #/hash_path; answers ms from navigation start
        to the load event."""
        self.driver.get("%s/#/%s" % (URL, hash_path.lstrip("#/")))
        return self.js("const n = performance.getEntriesByType('navigation')[0];"
                       "return n ? n.loadEventEnd - n.startTime : 0;")

    def go(self, hash_path):
        """Changes the address after '#' without reloading the page."""
        self.js("location.hash = arguments[0];", "#/" + hash_path.lstrip("#/"))

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def signin(self, staff, password=None):
        """Signs staff in on the sign-in page; waits for the console's frame."""
        self.wait("input[name=staff]")
        self.type("input[name=staff]", staff)
        self.type("input[name=password]", password or PASSWORD, enter=True)
        self.wait("header.top")
        note("%s signed in as %s" % (self.name, staff))

    # ---- finding things
    def wait(self, css, text=None, timeout=WAIT_S, visible=True):
        """The first element matching css (containing text, when given) once
        it is there (and visible); fails the journey after timeout."""
        def find(driver):
            for el in driver.find_elements(By.CSS_SELECTOR, css):
                try:
                    if (not visible or el.is_displayed()) and (text is None or text in el.text):
                        return el
                except WebDriverException:
                    continue
            return False
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(find)
        except TimeoutException:
            raise JourneyError("%s: no %s%s within %ss" % (
                self.name, css, " with %r" % text if text else "", timeout))

    def wait_gone(self, css, text=None, timeout=WAIT_S):
        """Waits until no visible element matches css (with text)."""
        def gone(driver):
            for el in driver.find_elements(By.CSS_SELECTOR, css):
                try:
                    if el.is_displayed() and (text is None or text in el.text):
                        return False
                except WebDriverException:
                    continue
            return True
        try:
            WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(gone)
        except TimeoutException:
            raise JourneyError("%s: %s%s still there after %ss" % (
                self.name, css, " with %r" % text if text else "", timeout))

    def all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css):
        return self.wait(css).text

    def type(self, css, value, enter=False, clear=True):
        el = self.wait(css)
        if clear:
            el.clear()
        el.send_keys(value + (Keys.ENTER if enter else ""))
        return el

    def click(self, css, text=None):
        el = self.wait(css, text)
        el.click()
        return el

    def button(self, text):
        """Clicks the visible button whose text contains text."""
        return self.click("button", text)

    def focused(self):
        """The element that has the keyboard focus."""
        return self.driver.switch_to.active_element

    # ---- evidence
    def shot(self, name):
        """Saves a screenshot as KEFU_SHOTS/NAME-NN-name.png."""
        self.shot_no += 1
        path = os.path.join(SHOTS, "%s-%02d-%s.png" % (self.name, self.shot_no, name))
        self.driver.save_screenshot(path)
        return path

    def api(self, method, path, body=None, headers=None):
        """A request from the page, with its session and CSRF token:
        {status, body}."""
        return self.driver.execute_async_script("""
            const [method, path, body, extra, done] = arguments;
            const h = Object.assign({'Accept': 'application/json'}, extra || {});
            if (body !== null) h['Content-Type'] = 'application/json';
            const who = await fetch('/api/v1/session').then(r => r.ok ? r.json() : null);
            if (method !== 'GET' && who) h['X-CSRF-Token'] = who.csrf;
            const r = await fetch(path, {method, headers: h,
                body: body === null ? undefined : JSON.stringify(body)});
            let b = null; try { b = await r.json(); } catch (e) {}
            done({status: r.status, body: b});""", method, path, body, headers)

    def problems(self):
        """Script errors and CSP violations in the browser's console since
        the last call."""
        out = []
        for entry in self.driver.get_log("browser"):
            msg = entry.get("message", "")
            if entry.get("level") == "SEVERE" and "favicon" not in msg and \
                    not self.ctx.expected(msg):
                out.append(msg)
        return out

    def close(self):
        try:
            self.driver.quit()
        except Exception:  # noqa: BLE001 - closing what may be gone already
            pass


class Context:
    """What a journey holds: its browsers and the expected console errors."""

    def __init__(self):
        self.browsers = []
        self.allowed = []

    def browser(self, name, size=DESK):
        b = Browser(self, name, size)
        self.browsers.append(b)
        return b

    def expect_console(self, fragment):
        """A console message containing fragment is expected (e.g. the 401 of
        an ended session, which the browser logs as a failed request)."""
        self.allowed.append(fragment)

    def expected(self, message):
        return any(a in message for a in self.allowed)


def sh(*args, env=None, check_rc=True):
    """Runs a program; answers its stdout."""
    res = subprocess.run(args, capture_output=True, text=True, env=dict(os.environ, **(env or {})),
                         timeout=60)
    if check_rc and res.returncode != 0:
        raise JourneyError("%s failed (%d): %s" % (" ".join(args), res.returncode,
                                                   res.stderr.strip()[-500:]))
    return res.stdout


def psql(sql, *params):
    """One value or rows of SQL on the test's store (psql -At); params are
    passed as psql variables :'p1', :'p2' ... so nothing is spliced."""
    args = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d",
            os.environ["KEFU_DATABASE_URL"]]
    for i, p in enumerate(params, 1):
        args += ["-v", "p%d=%s" % (i, p)]
    res = subprocess.run(args, input=sql, capture_output=True, text=True, timeout=60)
    if res.returncode != 0:
        raise JourneyError("psql: %s" % res.stderr.strip())
    return res.stdout.strip()


def cert(staff):
    """The path of staff's CurveZMQ certificate (issued on first use)."""
    path = os.path.join(IT_DIR, "certs", "%s.cert" % staff)
    if not os.path.exists(path):
        sh(os.path.join(BUILD, "services/admin/kefu-admin"), "cert", staff, "--out", path)
    return path


def kefu_json(staff, *args):
    """`kefu --json ARGS` as staff: the parsed answer."""
    out = sh(os.path.join(BUILD, "services/cli/kefu"), "--json", *args,
             env={"KEFU_CERT": cert(staff)})
    return json.loads(out)


def run(main):
    """Runs main(ctx) as a journey: exit 0 when it passed and no browser
    logged a script error or CSP violation; 1 otherwise."""
    ctx = Context()
    os.makedirs(SHOTS, exist_ok=True)
    rc = 0
    try:
        main(ctx)
        for b in ctx.browsers:
            bad = b.problems()
            check(not bad, "%s: the browser console has errors: %s" % (b.name, bad))
    except Exception:  # noqa: BLE001 - every failure is reported the same way
        traceback.print_exc()
        for b in ctx.browsers:
            try:
                print("failed at %s (%s); screenshot %s; console: %s" % (
                    b.driver.current_url, b.name, b.shot("failed"), b.problems()), flush=True)
            except Exception:  # noqa: BLE001
                pass
        rc = 1
    finally:
        for b in ctx.browsers:
            b.close()
    sys.exit(rc)
