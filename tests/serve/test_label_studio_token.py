"""Label Studio's API keys (keras_segmentation/serve/label_studio_token.py) against a stand-in of its endpoints: a
legacy token is sent as ``Token``, a personal access token (what Label Studio 1.23.2 refused as ``Token`` and
as ``Bearer`` when recorded) is exchanged at /api/token/refresh/ for Bearer access tokens, renewed before they
expire and after a 401; a revoked one is a one-line error."""

import pytest
from fake_label_studio import LEGACY, PAT, FakeLabelStudio, make_jwt

from keras_segmentation.errors import ServeError
from keras_segmentation.serve.label_studio_token import LabelStudioToken, jwt_claims
from keras_segmentation.serve.task_images import TaskImages

IMAGE = b"\x89PNG\r\n\x1a\n the image"
UPLOAD = "/data/upload/7/a.png"


@pytest.fixture
def fake():
    with FakeLabelStudio(IMAGE, uploads=(UPLOAD,)) as fake:
        yield fake


def images(fake, key):
    return TaskImages(fake.url, key, max_bytes=1 << 20, timeout_s=10)


def test_the_kind_of_key_is_read_from_it():
    access = make_jwt({"token_type": "access", "exp": 1})
    assert [LabelStudioToken("http://x", key, 1).kind for key in (LEGACY, PAT, access)] == ["legacy", "refresh", "access"]
    assert LabelStudioToken("http://x", LEGACY, 1).header() == "Token secret"
    assert LabelStudioToken("http://x", access, 1).header() == f"Bearer {access}"  # an access token: sent as it is
    assert jwt_claims(PAT)["token_type"] == "refresh"
    assert jwt_claims("not.a.jwt") is None and jwt_claims("a.bm90IGpzb24.c") is None and jwt_claims("x") is None


def test_a_legacy_token_reads_the_upload_without_a_refresh(fake):
    assert images(fake, LEGACY).read(7, UPLOAD) == (IMAGE, "task 7's image")
    assert fake.seen == [(UPLOAD, "Token secret")]


def test_a_personal_access_token_is_exchanged_once_for_bearer_access_tokens(fake):
    reader = images(fake, PAT)
    for _ in range(3):
        assert reader.read(7, UPLOAD)[0] == IMAGE
    assert len(fake.issued) == 1  # kept while it is valid
    assert fake.seen == [("POST /api/token/refresh/", None)] + [(UPLOAD, f"Bearer {fake.issued[0]}")] * 3


def test_an_access_token_near_its_expiry_or_refused_is_renewed(fake):
    fake.lifetime_s = 10  # less than the 30 s margin: each fetch needs a new one
    reader = images(fake, PAT)
    reader.read(7, UPLOAD)
    reader.read(7, UPLOAD)
    assert len(fake.issued) == 2
    fake.lifetime_s = 300
    reader.read(7, UPLOAD)
    fake.refused.add(fake.issued[-1])  # revoked before its time (or the clocks differ): one new one, then the file
    assert reader.read(7, UPLOAD)[0] == IMAGE
    assert fake.seen[-3:] == [(UPLOAD, f"Bearer {fake.issued[2]}"), ("POST /api/token/refresh/", None),
                              (UPLOAD, f"Bearer {fake.issued[3]}")]


def test_a_revoked_personal_access_token_is_a_one_line_error(fake):
    fake.revoked = True
    with pytest.raises(ServeError, match=r"Label Studio refused \$LABEL_STUDIO_API_KEY \(a personal access token\) at "
                       r"http://127\.0\.0\.1:\d+/api/token/refresh/: HTTP 401 Unauthorized; give a token") as error:
        images(fake, PAT).read(7, UPLOAD)
    assert error.value.status == 400 and "\n" not in str(error.value)
    assert all(path != UPLOAD for path, _ in fake.seen)  # no image request without a token
