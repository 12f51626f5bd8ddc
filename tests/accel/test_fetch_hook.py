"""The HTTP seam: builds without a native backend (single-threaded/browser)."""
import asyncio

import pytest

import accel


class FakeResponse:
    def __init__(self, url):
        self.status = 200
        self.url = url
        self.body = url.encode()


async def hook(url, method="GET", headers=None, body=None, timeout=None):
    await asyncio.sleep(0)
    if "fail" in url:
        raise ConnectionRefusedError(111, "refused")
    return FakeResponse(url)


@pytest.fixture
def installed_hook():
    accel.set_fetch_hook(hook)
    yield
    accel.set_fetch_hook(None)


@pytest.mark.single_threaded
def test_no_backend_raises_clear_not_implemented():
    async def main():
        with pytest.raises(NotImplementedError, match="single-threaded"):
            accel.fetch("http://example.invalid/")
        with pytest.raises(NotImplementedError, match="set_fetch_hook"):
            accel.fetch_many(["http://example.invalid/"])

    asyncio.run(main())


@pytest.mark.single_threaded
def test_hook_serves_fetch_and_fetch_many(installed_hook):
    async def main():
        r = await accel.fetch("http://a/")
        assert r.body == b"http://a/"
        res = await accel.fetch_many(["http://b/", "http://fail/", "http://c/"], concurrency=2)
        assert res[0].body == b"http://b/"
        assert isinstance(res[1], ConnectionRefusedError)
        assert res[2].status == 200

    asyncio.run(main())


def test_set_fetch_hook_validates():
    with pytest.raises(TypeError):
        accel.set_fetch_hook(42)
    accel.set_fetch_hook(None)
