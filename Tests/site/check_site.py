#!/usr/bin/env python3
"""Checks the public site as a browser sees it, served by nginx.

Every page reachable from the index is fetched (every internal link and resource must
resolve: 200), loaded in headless Chromium through selenium with its console read (no
errors), and checked by axe-core (no serious or critical violations); screenshots of the
index and of one indicator page are written to --out. Exit status 0 when all is well, 1 with
one line per problem otherwise. Used by SiteTests; runnable by hand:

    python3 Tests/site/check_site.py --base http://127.0.0.1:8080/ --out /tmp/site-shots
"""
import argparse
import collections
import html.parser
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

from axe_selenium_python import Axe
from selenium import webdriver
from selenium.webdriver.chrome.service import Service


class Links(html.parser.HTMLParser):
    """The href and src of a page's elements."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.found.append(value)


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, reply.headers, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, b""


def crawl(base):
    """Every internal URL reachable from the index, with its status; problems found on the way."""
    problems, seen, pages = [], set(), []
    queue = collections.deque([urllib.parse.urljoin(base, "index.html")])
    while queue:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        status, headers, body = fetch(url)
        if status != 200:
            problems.append(f"{url}: HTTP {status}")
            continue
        if not url.endswith(".html"):
            continue
        pages.append(url)
        if "script-src" in (headers.get("Content-Security-Policy") or "") or "'none'" not in (headers.get("Content-Security-Policy") or ""):
            problems.append(f"{url}: no strict Content-Security-Policy ({headers.get('Content-Security-Policy')})")
        parser = Links()
        parser.feed(body.decode("utf-8"))
        for link in parser.found:
            if link.startswith(("data:", "#")):
                continue
            target = urllib.parse.urljoin(url, link).split("#")[0]
            if target.startswith(base):
                queue.append(target)
            elif not link.startswith(("https://www.nationalarchives.gov.uk/",)):
                problems.append(f"{url}: links outside the site: {link}")
    return pages, problems


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1600"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="the site's root URL, ending in /")
    parser.add_argument("--out", required=True, help="folder for the screenshots")
    parser.add_argument("--indicator", default="", help="the indicator page to screenshot, relative to the root")
    options = parser.parse_args()
    os.makedirs(options.out, exist_ok=True)

    pages, problems = crawl(options.base)
    print(f"check_site: {len(pages)} pages reachable from the index", flush=True)
    driver = browser()
    violations = 0
    try:
        for index, url in enumerate(pages, 1):
            driver.get(url)
            for entry in driver.get_log("browser"):
                if entry.get("level") in ("SEVERE", "ERROR"):
                    problems.append(f"{url}: console: {entry.get('message')}")
            axe = Axe(driver)
            axe.inject()
            result = axe.run()
            for violation in result["violations"]:
                if violation.get("impact") in ("serious", "critical"):
                    violations += 1
                    nodes = "; ".join(node.get("target", [""])[0] if node.get("target") else "" for node in violation["nodes"][:3])
                    problems.append(f"{url}: axe {violation['impact']}: {violation['id']}: {violation['help']} ({nodes})")
            if index % 25 == 0:
                print(f"check_site: {index} of {len(pages)} pages loaded and checked", flush=True)
        for name, path in (("index", "index.html"), ("indicator", options.indicator)):
            if not path:
                continue
            driver.get(urllib.parse.urljoin(options.base, path))
            shot = os.path.join(options.out, f"{name}.png")
            driver.save_screenshot(shot)
            print(f"check_site: screenshot of {path}: {shot}")
    finally:
        driver.quit()
    print(json.dumps({"pages": len(pages), "problems": len(problems), "axe_serious_or_critical": violations}))
    for problem in problems:
        print("problem: " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
