"""A managed service for the tests: logs visitors in through the hub with
jupyterhub.services.auth.HubOAuth (Debian's jupyterhub package) and answers
GET {prefix} with the visitor's hub user model as JSON.

Everything it needs comes from the environment onehub gives services:
JUPYTERHUB_SERVICE_URL (where to listen), JUPYTERHUB_SERVICE_PREFIX,
JUPYTERHUB_API_URL, JUPYTERHUB_API_TOKEN, JUPYTERHUB_CLIENT_ID,
JUPYTERHUB_OAUTH_CALLBACK_URL.
"""
import json
import os
from urllib.parse import urlparse

from tornado import ioloop, web

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join


class WhoAmI(HubOAuthenticated, web.RequestHandler):
    @web.authenticated
    def get(self):
        self.set_header("content-type", "application/json")
        self.write(json.dumps(self.get_current_user(), sort_keys=True))


def main():
    prefix = os.environ["JUPYTERHUB_SERVICE_PREFIX"]
    url = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    app = web.Application(
        [
            (prefix, WhoAmI),
            (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
        ],
        cookie_secret=os.urandom(32),
    )
    app.listen(url.port, url.hostname)
    print("whoami listening on", url.geturl(), flush=True)
    ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
