"""volflow's errors.

Every error raised on purpose is a :class:`VolflowException`. Each class
carries a message template filled from keyword arguments, as Cinder's
``CinderException`` does, so a refusal always names the value and the rule
it broke.
"""


class VolflowException(Exception):
    """Base of every volflow error.

    Subclasses set ``message`` to a template using the keyword arguments
    given at raise time. ``code`` is the HTTP-like status a service would
    map the error to.
    """

    message = 'An unknown exception occurred.'
    code = 500
    #: True for refusals the user caused (bad input, quota): logged without
    #: a traceback.
    expected = False

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.message % kwargs
            except (KeyError, TypeError):
                # A template/argument mismatch is a programming error; keep
                # the template rather than hiding the original problem.
                message = self.message
        self.msg = str(message)
        super().__init__(self.msg)

    def __str__(self):
        return self.msg


class Invalid(VolflowException):
    message = 'Unacceptable parameters.'
    code = 400
    expected = True


class InvalidInput(Invalid):
    message = 'Invalid input received: %(reason)s'


class InvalidVolumeType(Invalid):
    message = 'Invalid volume type: %(reason)s'


class InvalidAvailabilityZone(Invalid):
    message = "Availability zone '%(az)s' is invalid."


class InvalidSnapshot(Invalid):
    message = 'Invalid snapshot: %(reason)s'


class InvalidVolume(Invalid):
    message = 'Invalid volume: %(reason)s'


class InvalidImage(Invalid):
    message = 'Invalid image: %(reason)s'


class InvalidVolumeMetadata(Invalid):
    message = 'Invalid metadata: %(reason)s'


class InvalidVolumeMetadataSize(Invalid):
    message = 'Invalid metadata size: %(reason)s'


class NotFound(VolflowException):
    message = 'Resource could not be found.'
    code = 404
    expected = True


class VolumeNotFound(NotFound):
    message = 'Volume %(volume_id)s could not be found.'


class SnapshotNotFound(NotFound):
    message = 'Snapshot %(snapshot_id)s could not be found.'


class MetadataNotFound(NotFound):
    message = '%(kind)s %(id)s has no metadata with key %(key)s.'


class MarkerNotFound(NotFound):
    message = 'Marker %(marker)s could not be found.'


class ImageNotFound(NotFound):
    message = 'Image %(image_id)s could not be found.'


class VolumeTypeNotFound(NotFound):
    message = 'Volume type %(volume_type)s could not be found.'


class VolumeTypeDefaultMisconfiguredError(VolflowException):
    message = ("Default volume type '%(volume_type)s' (option "
               "default_volume_type) does not exist: create it, or set "
               "the option to an existing type")
    code = 500
    expected = True


class MissingDependency(VolflowException):
    message = ("%(what)s needs the Python package '%(package)s', which is "
               "not installed: %(remedy)s")
    expected = True

    #: Packages volflow's extras (setup.cfg) install.
    EXTRAS = {'psycopg2': 'postgresql', 'pymysql': 'mysql',
              'redis': 'jobboard'}

    @classmethod
    def of(cls, what, error):
        """The error for ``what`` failing with ``ModuleNotFoundError``."""
        package = (error.name or str(error)).split('.')[0]
        extra = cls.EXTRAS.get(package)
        remedy = (f"pip install 'volflow[{extra}]'" if extra else
                  f'pip install {package}')
        return cls(what=what, package=package, remedy=remedy)


class BackendNotFound(NotFound):
    message = 'Backend %(backend)s could not be found.'


class ServiceNotFound(NotFound):
    message = 'Service %(service)s could not be found.'


class ServiceExists(VolflowException):
    message = 'Service %(binary)s on host %(host)s already exists.'


class QuotaError(VolflowException):
    message = 'Quota exceeded: %(reason)s'
    code = 413
    expected = True


class VolumeSizeExceedsLimit(QuotaError):
    message = ('Requested volume size %(size)dG is larger than maximum '
               'allowed limit %(limit)dG.')


class OverQuota(QuotaError):
    message = 'Quota exceeded for resources: %(overs)s.'


class VolumeSizeExceedsAvailableQuota(OverQuota):
    message = ('Requested volume or snapshot exceeds allowed %(name)s quota. '
               'Requested %(requested)sG, quota is %(quota)sG and '
               '%(consumed)sG has been consumed.')


class VolumeLimitExceeded(OverQuota):
    message = ("Maximum number of volumes allowed (%(allowed)d) exceeded for "
               "quota '%(name)s'.")


class SnapshotLimitExceeded(OverQuota):
    message = ("Maximum number of snapshots allowed (%(allowed)d) exceeded "
               "for quota '%(name)s'.")


class ReservationLost(QuotaError):
    """A flow resumed too late: its reservation expired meanwhile."""

    message = ('Quota reservations %(reservations)s expired before they '
               'could be committed; the request must be made again.')


class CapacityClaimFailed(VolflowException):
    message = ('Backend %(backend)s has %(free)sG free, volume '
               '%(volume_id)s needs %(size)sG.')
    expected = True


class NoValidBackend(VolflowException):
    message = 'No valid backend was found. %(reason)s'
    code = 400
    expected = True


class VolumeDriverException(VolflowException):
    message = 'Volume driver reported an error: %(reason)s'


class VolumeBackendAPIException(VolumeDriverException):
    message = 'Bad or unexpected response from the storage backend: %(data)s'


class DatabaseNotSynced(VolflowException):
    message = ('Database %(url)s is at schema revision %(revision)s: '
               '%(remedy)s')
    expected = True


class ConfigError(VolflowException):
    message = 'Configuration error: %(reason)s'
    expected = True


class ServiceUnavailable(VolflowException):
    """A service the request needs could not be reached over rpc."""

    message = 'Service unavailable: %(reason)s'
    code = 503


class Timeout(VolflowException):
    message = ('Volume %(volume_id)s is still %(status)s after %(timeout)s '
               'seconds.')


class InjectedFailure(VolflowException):
    """The failure ``--fail-at`` injects, to watch a flow revert."""

    message = 'Failure injected at %(task)s (--fail-at).'
    expected = True


# Volume types, their access and QoS specs, user messages -----------------
class Conflict(VolflowException):
    message = 'Conflict: %(reason)s'
    code = 409
    expected = True


class VolumeTypeExists(InvalidVolumeType):
    message = "Volume Type '%(name)s' already exists."
    code = 409


class VolumeTypeInUse(Invalid):
    message = ('Volume Type %(volume_type_id)s deletion is not allowed with '
               'volumes present with the type.')


class VolumeTypeDefaultDeletionError(Invalid):
    message = ('The volume type %(volume_type_id)s is the default volume '
               'type (option default_volume_type) and cannot be deleted.')


class VolumeTypeExtraSpecsNotFound(NotFound):
    message = ('Volume Type %(volume_type_id)s has no extra specs with key '
               '%(extra_specs_key)s.')


class VolumeTypeAccessExists(Conflict):
    message = ('Volume type access for %(volume_type_id)s / %(project_id)s '
               'combination already exists.')


class VolumeTypeAccessNotFound(NotFound):
    message = ('Volume type access not found for %(volume_type_id)s / '
               '%(project_id)s combination.')


class QoSSpecsExists(Conflict):
    message = 'QoS Specs %(specs_id)s already exists.'


class QoSSpecsNotFound(NotFound):
    message = 'No such QoS spec %(specs_id)s.'


class QoSSpecsKeyNotFound(NotFound):
    message = 'QoS spec %(specs_id)s has no spec with key %(specs_key)s.'


class QoSSpecsInUse(Invalid):
    message = ('QoS Specs %(specs_id)s is still associated with entities: '
               '%(types)s.')


class VolumeTypeEncryptionNotFound(NotFound):
    message = 'Volume type encryption for type %(type_id)s does not exist.'


class MessageNotFound(NotFound):
    message = 'Message %(message_id)s could not be found.'
