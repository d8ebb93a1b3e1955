"""Volume drivers, loaded by the name a backend's ``volume_driver`` gives.

A name is an entry point of the ``volflow.volume.drivers`` namespace
(``fake``, ``file``, or a plugin's) or the import path of a driver class
(``mypackage.drivers.MyDriver``). volflow's own drivers are also found by
name when volflow runs from a source tree that was never installed, where
no entry point is registered.
"""

from oslo_utils import importutils
from stevedore import driver as stevedore_driver
from stevedore import exception as stevedore_exception

from volflow import exception

NAMESPACE = 'volflow.volume.drivers'

_BUILTIN = {
    'fake': 'volflow.volume.drivers.fake.FakeDriver',
    'file': 'volflow.volume.drivers.file.FileDriver',
}


def driver_class(name):
    """Return the driver class ``name`` refers to.

    :raises ConfigError: when no entry point nor class has that name.
    """
    if '.' in name:
        try:
            return importutils.import_class(name)
        except (ImportError, ValueError) as exc:
            raise exception.ConfigError(
                reason=f"volume_driver '{name}' cannot be imported: "
                       f"{exc}") from None
    try:
        return stevedore_driver.DriverManager(
            NAMESPACE, name, invoke_on_load=False).driver
    except (stevedore_exception.NoMatches, RuntimeError):
        if name in _BUILTIN:
            return importutils.import_class(_BUILTIN[name])
    raise exception.ConfigError(
        reason=(f"volume_driver '{name}' is neither an entry point of "
                f"{NAMESPACE} ({', '.join(sorted(_BUILTIN))}, ...) nor an "
                f"import path of a class"))


def load_driver(backend):
    """Build the driver of one backend (not set up yet).

    :param backend: a dict of :func:`volflow.volume.backends.get_backends`.
    """
    return driver_class(backend['volume_driver'])(backend)
