"""Cinder-shaped faults: ``{"<kind>": {"message": ..., "code": N}}``.

Every :class:`~volflow.exception.VolflowException` maps to the fault its
``code`` names, with the exception's own message; webob's HTTP errors
(from the router, oslo.middleware, the body size limit) keep their
status and get the same shape. A client's mistake (a 4xx) is logged at
DEBUG without a traceback; anything else is a 500 whose traceback goes to
the log at ERROR and never to the client.
"""

import json

from oslo_log import log as logging
import webob
import webob.dec
import webob.exc

from volflow import exception

LOG = logging.getLogger(__name__)

#: Cinder's fault names by status code (``computeFault`` otherwise).
FAULT_NAMES = {
    400: 'badRequest',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'itemNotFound',
    405: 'badMethod',
    406: 'notAcceptable',
    409: 'conflict',
    413: 'overLimit',
    415: 'badMediaType',
    501: 'notImplemented',
    503: 'serviceUnavailable',
}

UNEXPECTED = ('The server has either erred or is incapable of performing '
              'the requested operation.')


class HTTPError(Exception):
    """A refusal of the HTTP layer itself (policy, URL, microversion)."""

    def __init__(self, code, message, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = headers or {}


def fault_response(code, message, headers=None):
    """The Cinder-shaped fault response."""
    name = FAULT_NAMES.get(code, 'computeFault')
    body = {name: {'message': _one_line(message), 'code': code}}
    response = webob.Response(status=code, content_type='application/json',
                              charset='utf-8')
    response.body = json.dumps(body).encode('utf-8')
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _one_line(text):
    return ' '.join(str(text).split())


def from_exception(exc):
    """The fault response for ``exc``; logs it as it deserves."""
    if isinstance(exc, HTTPError):
        LOG.debug('Refused: %(code)s %(message)s',
                  {'code': exc.code, 'message': exc.message})
        return fault_response(exc.code, exc.message, exc.headers)
    if isinstance(exc, exception.VolflowException) and exc.code < 500:
        LOG.debug('Refused: %(code)s %(message)s',
                  {'code': exc.code, 'message': exc})
        return fault_response(exc.code, str(exc))
    if isinstance(exc, webob.exc.HTTPException) and exc.code < 500:
        LOG.debug('Refused: %(code)s %(message)s',
                  {'code': exc.code, 'message': exc.explanation})
        return fault_response(exc.code, exc.explanation or exc.title)
    if isinstance(exc, exception.VolflowException):
        # A misconfiguration the message explains needs no traceback.
        LOG.error('Request failed: %s', exc,
                  exc_info=None if exc.expected else exc)
        return fault_response(exc.code, str(exc))
    LOG.error('Unexpected error serving a request: %s', exc, exc_info=exc)
    return fault_response(500, UNEXPECTED)


def _is_fault_json(response):
    return response.content_type == 'application/json'


class FaultWrapper:
    """WSGI middleware: every error leaves as a Cinder-shaped fault.

    Errors raised below become faults; error responses built below in
    another shape (webob's text or HTML, oslo.middleware's basic auth
    JSON) are reshaped, keeping their status and their explanation.
    """

    def __init__(self, application):
        self.application = application

    @webob.dec.wsgify
    def __call__(self, req):
        try:
            req.path_info, req.GET  # noqa: B018  (decoded, or refused)
        except UnicodeDecodeError:
            return fault_response(400, 'The request URL is not valid '
                                       'UTF-8.')
        try:
            response = req.get_response(self.application)
        except Exception as exc:
            return from_exception(exc)
        if response.status_code >= 400 and not _reshaped(response):
            return _reshape(response)
        return response


def _reshaped(response):
    if not _is_fault_json(response):
        return False
    try:
        body = json.loads(response.body)
    except ValueError:
        return False
    return (isinstance(body, dict) and len(body) == 1 and
            FAULT_NAMES.get(response.status_code, 'computeFault') in body)


def _message_of(response):
    """The explanation an error response of another shape carries."""
    text = response.body.decode('utf-8', 'replace')
    if _is_fault_json(response):
        try:
            body = json.loads(text)
        except ValueError:
            return None
        if isinstance(body, dict) and isinstance(body.get('message'), str):
            return body['message']
        inner = next(iter(body.values()), None) if isinstance(
            body, dict) else None
        if isinstance(inner, dict) and isinstance(inner.get('message'),
                                                  str):
            return inner['message']
        return None
    if response.content_type == 'text/plain':
        # webob: the status line, a blank line, the explanation.
        lines = text.splitlines()[1:]
        return _one_line(' '.join(lines)) or None
    return None


def _reshape(response):
    message = _message_of(response)
    if not message:
        message = webob.exc.status_map.get(
            response.status_code, webob.exc.HTTPServerError).explanation
    headers = {key: value for key, value in response.headers.items()
               if key.lower() in ('www-authenticate',)}
    return fault_response(response.status_code, message, headers)
