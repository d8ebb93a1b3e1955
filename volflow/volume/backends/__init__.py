"""The storage backends this deployment has, from configuration.

With ``[DEFAULT] enabled_backends`` unset there is exactly one backend,
``local``: the file driver storing volumes under ``$state_path/volumes``,
``volume_backend_name = local``, in ``storage_availability_zone``. Setting
``enabled_backends`` replaces it with the sections listed.

:func:`free_capacity_gb` is the one place the schedulable space of a
backend is computed, so that the scheduler's capacity filter and weigher
and ``backend-list`` agree.
"""

import os
import re
import socket

from oslo_config import cfg

from volflow.conf import backend as backend_conf
from volflow.db import rules
from volflow import exception
from volflow.volume import drivers

CONF = cfg.CONF

LOCAL = 'local'


def _local(conf):
    return {
        'name': LOCAL,
        'volume_driver': 'file',
        'volume_backend_name': LOCAL,
        'availability_zone': conf.storage_availability_zone,
        'total_capacity_gb': 1000,
        'reserved_percentage': 0,
        'thin_provisioning_support': True,
        'max_over_subscription_ratio': 1.0,
        'volumes_dir': os.path.join(conf.state_path, 'volumes'),
        'fake_latency': 0.0,
        'fake_failure_rate': 0.0,
    }


#: A value holding what an ini file's reader meant as a comment.
_COMMENT = re.compile(r'(^|\s)[#;]')


def _quoted_value(error):
    """The value oslo.config quotes last when it is not of its type."""
    text = str(error)
    start = text.rfind(": '")
    return text[start + 3:-1] if start >= 0 and text.endswith("'") else ''


def _refuse_comment(name, option, value):
    raise exception.ConfigError(reason=(
        f"[{name}] {option} '{value}' carries a comment: oslo.config keeps "
        f"what follows a value on its line; put the comment on a line of "
        f"its own"))


def _checked(conf, name):
    """The section of backend ``name``, its values checked.

    A backend listed in ``enabled_backends`` with no section (in a
    configuration file, or registered by the embedding program) is a
    mistake, not a backend of default values; so is a comment on the line
    of a value, which oslo.config keeps in the value.
    """
    if name not in conf.list_all_sections() and name not in conf:
        raise exception.ConfigError(reason=(
            f"enabled_backends names '{name}', which has no [{name}] "
            f"section"))
    section = backend_conf.register_backend(conf, name)
    for opt in backend_conf.backend_opts:
        try:
            value = section[opt.dest]
        except cfg.ConfigFileValueError as exc:
            quoted = _quoted_value(exc)
            if _COMMENT.search(quoted):
                _refuse_comment(name, opt.dest, quoted)
            raise exception.ConfigError(
                reason=f'[{name}] {opt.dest}: {exc}') from None
        if isinstance(value, str) and _COMMENT.search(value):
            _refuse_comment(name, opt.dest, value)
    return section


def _from_section(conf, name):
    section = _checked(conf, name)
    return {
        'name': name,
        'volume_driver': section.volume_driver,
        'volume_backend_name': section.volume_backend_name or name,
        'availability_zone': (section.backend_availability_zone or
                              conf.storage_availability_zone),
        'total_capacity_gb': section.total_capacity_gb,
        'reserved_percentage': section.reserved_percentage,
        'thin_provisioning_support': section.thin_provisioning_support,
        'max_over_subscription_ratio': section.max_over_subscription_ratio,
        'volumes_dir': (section.volumes_dir or
                        os.path.join(conf.state_path, 'volumes', name)),
        'fake_latency': section.fake_latency,
        'fake_failure_rate': section.fake_failure_rate,
    }


def get_backends(conf=None):
    """Return the configured backends, as dicts, in configuration order."""
    conf = conf or CONF
    if not conf.enabled_backends:
        return [_local(conf)]
    return [_from_section(conf, name) for name in conf.enabled_backends]


def get_backend(name, conf=None):
    for backend in get_backends(conf):
        if backend['name'] == name:
            return backend
    raise exception.BackendNotFound(backend=name)


def availability_zones(conf=None):
    """The zones the backends offer."""
    return sorted({b['availability_zone'] for b in get_backends(conf)})


def backend_of_host(host):
    """The backend name in a volume's ``host``.

    The rule of :func:`volflow.db.rules.backend_of_host`, which capacity
    claims use: ``'node1@local#pool'``, ``'local#pool'`` and ``'local'``
    all name the backend ``local``.
    """
    return rules.backend_of_host(host)


def pool_name(backend):
    """The backend's one pool as Cinder names it: ``host@backend#pool``.

    The host is this machine's name, the one the backend's volume service
    reports on (``HOST@BACKEND``); the pool is named by its
    ``volume_backend_name``: ``HOST@local#local`` for the seeded one.
    """
    return (f"{socket.gethostname()}@{backend['name']}#"
            f"{backend['volume_backend_name']}")


def cinder_host(host, conf=None):
    """A volume's ``host`` as Cinder shows it (``host@backend#pool``).

    The name of the pool :func:`pool_name` gives its backend; a host
    naming no configured backend, or already in that form, as it is.
    """
    if not host or '@' in host:
        return host
    try:
        return pool_name(get_backend(backend_of_host(host), conf))
    except exception.BackendNotFound:
        return host


def allocated_by_backend(db_api, context):
    """``{backend name: gigabytes}`` over every volume placed on one."""
    allocated = {}
    for host, size in db_api.volume_allocated_by_host(context).items():
        name = backend_of_host(host)
        allocated[name] = allocated.get(name, 0) + size
    return allocated


def driver_stats(backend):
    """What ``backend``'s driver reports of itself (its capabilities).

    Cinder's keys: ``volume_backend_name``, ``vendor_name``,
    ``driver_version``, ``storage_protocol``, capacity and provisioning.
    """
    return drivers.load_driver(backend).get_volume_stats()


def capacity_gb(backend):
    """Gigabytes schedulable on an empty ``backend`` (see below)."""
    return free_capacity_gb(backend, 0)


def free_capacity_gb(backend, allocated_gb):
    """Gigabytes still schedulable on ``backend``.

    ``total * ratio * (1 - reserved%) - allocated``, where ``ratio`` is
    ``max_over_subscription_ratio`` for a thin-provisioning backend and 1
    otherwise. Negative when the backend is over-allocated.
    """
    ratio = (backend['max_over_subscription_ratio']
             if backend['thin_provisioning_support'] else 1.0)
    usable = (backend['total_capacity_gb'] * ratio *
              (1 - backend['reserved_percentage'] / 100.0))
    return usable - allocated_gb
