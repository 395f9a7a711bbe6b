"""The product speaks Vietnamese: the console rendered for `Accept-Language: vi` or the language cookie."""

from django.test import Client

HOST = {"HTTP_HOST": "acme.localhost"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_console_in_vietnamese_from_accept_language(tenant):
    content = client_for(tenant.owner).get("/console/", HTTP_ACCEPT_LANGUAGE="vi", **HOST).content.decode()
    assert '<html lang="vi">' in content
    assert "Acme Network — bảng điều khiển mạng lưới" in content
    assert ">Nhân viên<" in content
    assert "Tiền tệ mặc định" in content


def test_console_in_vietnamese_from_the_language_cookie(tenant):
    client = client_for(tenant.owner)
    client.cookies["django_language"] = "vi"
    content = client.get("/console/settings/", **HOST).content.decode()
    assert "Cài đặt mạng lưới" in content
    assert "Ngưỡng thanh toán tối thiểu" in content


def test_the_language_switch_sets_the_cookie(tenant):
    client = client_for(tenant.owner)
    response = client.post("/i18n/setlang/", {"language": "vi", "next": "/console/"}, **HOST)
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "vi"
    assert "Nhật ký kiểm tra" in client.get("/console/", **HOST).content.decode()


def test_english_stays_the_default(tenant):
    content = client_for(tenant.owner).get("/console/", **HOST).content.decode()
    assert "Acme Network — network console" in content


def test_allauth_pages_speak_vietnamese_too(db):
    client = Client()
    client.cookies["django_language"] = "vi"
    content = client.get("/accounts/login/").content.decode()
    assert "Đăng nhập" in content
    assert "Ghi nhớ đăng nhập" in content
    assert "Sign In" not in content
    assert "Quên mật khẩu?" in content
