"""Secrets never reach a log line.

:func:`mask_secrets` masks what oslo.utils' ``mask_password`` knows
(``password=...``, tokens, ...) plus what it does not: the password of
``scheme://user:password@host`` URLs (``transport_url``,
``[database] connection``) and encryption keys.
:class:`MaskingFilter` applies it to every record a handler writes, any
library's; the flow listener applies it to task results and tracebacks.
"""

import logging
import re

from oslo_utils import strutils

#: The password of ``scheme://user:password@host`` URLs: up to the last
#: ``@`` before the path, since a careless password may hold a raw ``@``
#: (masking a multi-host URL's first hosts with it errs on the safe side).
_URL_PASSWORD = re.compile(
    r"""([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s'"]*):[^\s'"/]*@""")

#: Secrets ``mask_password`` does not know by name: encryption keys.
_KEY_VALUE = re.compile(
    r"""(encryption[_-]?key['"]?\s*[:=]\s*['"]?)[^'"\s,}&]+""", re.I)


def mask_secrets(text):
    """``text`` with passwords, tokens, keys and URL credentials masked."""
    text = _URL_PASSWORD.sub(r'\1:***@', str(text))
    return strutils.mask_password(_KEY_VALUE.sub(r'\1***', text))


class MaskingFilter(logging.Filter):
    """Masks secrets in every record a handler writes."""

    def filter(self, record):
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install():
    """Put a :class:`MaskingFilter` on every handler of the root logger."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
