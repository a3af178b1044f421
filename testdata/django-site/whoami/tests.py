from django.test import Client, SimpleTestCase


class WhoamiTests(SimpleTestCase):
    def test_trusted_proxy_header_makes_request_secure(self):
        seen = self.client.get('/whoami/', HTTP_X_FORWARDED_PROTO='https',
                               HTTP_HOST='localhost:8080').json()
        self.assertEqual(seen['scheme'], 'https')
        self.assertTrue(seen['is_secure'])
        self.assertEqual(seen['absolute_uri'], 'https://localhost:8080/whoami/')

    def test_plain_request_is_not_secure(self):
        seen = self.client.get('/whoami/', HTTP_HOST='localhost:8000').json()
        self.assertEqual(seen['scheme'], 'http')
        self.assertFalse(seen['is_secure'])

    def test_unknown_host_is_rejected(self):
        response = self.client.get('/whoami/', HTTP_HOST='example.com')
        self.assertEqual(response.status_code, 400)

    def test_csrf_post_from_own_https_origin_is_accepted(self):
        client = Client(enforce_csrf_checks=True)
        headers = {'HTTP_X_FORWARDED_PROTO': 'https', 'HTTP_HOST': 'localhost:8080'}
        page = client.get('/', **headers)
        token = page.cookies['csrftoken'].value
        response = client.post('/submit/', {'message': 'hi', 'csrfmiddlewaretoken': token},
                               HTTP_ORIGIN='https://localhost:8080',
                               HTTP_REFERER='https://localhost:8080/', **headers)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertTrue(response.json()['accepted'])

    def test_csrf_post_without_token_is_refused(self):
        client = Client(enforce_csrf_checks=True)
        response = client.post('/submit/', {'message': 'hi'}, HTTP_HOST='localhost:8080',
                               HTTP_X_FORWARDED_PROTO='https',
                               HTTP_ORIGIN='https://localhost:8080')
        self.assertEqual(response.status_code, 403)
