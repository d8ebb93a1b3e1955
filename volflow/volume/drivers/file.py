"""A driver storing each volume as one sparse file.

Layout under the backend's ``volumes_dir`` (mode 0700, created by
:meth:`FileDriver.do_setup`): a volume is the file named by its id, a
snapshot the file ``snapshot-<id>``; both mode 0600. Names come from ids
only, never from user-given names, and ids are checked to be plain names,
so that no request can make the driver touch a path outside the directory.

Every file is written under a temporary name (``<name>.part``), synced and
renamed into place: a crash or a failure never leaves a half-written
volume under its real name, and doing the same creation again replaces
the file. Copies skip holes and zero blocks, so a copy of a sparse file
stays sparse.
"""

import errno
import os
import re

from oslo_log import log as logging

from volflow import exception
from volflow.volume.drivers import base

LOG = logging.getLogger(__name__)

_CHUNK = 1024 * 1024
_ZEROS = bytes(_CHUNK)
_PART = '.part'
_SAFE_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_-]*$')


def _is_zero(chunk):
    if len(chunk) == _CHUNK:
        return chunk == _ZEROS
    return chunk.count(0) == len(chunk)


def _data_extents(fd, size):
    """``[(start, end)]`` of the parts of ``fd`` that may hold data.

    Holes are found with ``SEEK_DATA`` / ``SEEK_HOLE``; where the file
    system cannot tell, the whole file is one extent (the zero-block check
    still keeps the copy sparse).
    """
    if not hasattr(os, 'SEEK_DATA'):
        return [(0, size)] if size else []
    extents = []
    offset = 0
    while offset < size:
        try:
            start = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # only a hole is left
                break
            if exc.errno in (errno.EINVAL, errno.EOPNOTSUPP):
                return [(0, size)]
            raise
        end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
        extents.append((start, end))
        offset = end
    return extents


def _write_chunks(dst_fd, chunks):
    """Write ``(offset, bytes)`` pairs, seeking over zero blocks."""
    for offset, chunk in chunks:
        if not _is_zero(chunk):
            os.pwrite(dst_fd, chunk, offset)


def _file_chunks(src_fd, size):
    for start, end in _data_extents(src_fd, size):
        offset = start
        while offset < end:
            chunk = os.pread(src_fd, min(_CHUNK, end - offset), offset)
            if not chunk:
                return
            yield offset, chunk
            offset += len(chunk)


def _stream_chunks(stream, limit, what):
    """Chunks of a readable stream; more than ``limit`` bytes is refused.

    A stream that cannot be read is the image's fault, not the backend's:
    it is reported as ``InvalidImage``, which is not rescheduled.
    """
    offset = 0
    while True:
        try:
            chunk = stream.read(_CHUNK)
        except OSError as exc:
            raise exception.InvalidImage(
                reason=f'{what} could not be read: {exc}') from exc
        if not chunk:
            return
        if offset + len(chunk) > limit:
            raise exception.InvalidImage(
                reason=f'{what} is larger than the volume ({limit} bytes)')
        yield offset, chunk
        offset += len(chunk)


class FileDriver(base.VolumeDriver):
    """Volumes as sparse files in one private directory."""

    PROTOCOL = 'file'

    def __init__(self, backend):
        super().__init__(backend)
        self.volumes_dir = backend['volumes_dir']

    # Paths ---------------------------------------------------------------
    def _path(self, name, record_id):
        if not isinstance(record_id, str) or not _SAFE_ID.match(record_id):
            raise exception.InvalidInput(
                reason=(f"{name} id '{record_id}' is not a plain name the "
                        f"file driver can store"))
        prefix = '' if name == 'volume' else f'{name}-'
        return os.path.join(self.volumes_dir, f'{prefix}{record_id}')

    def local_path(self, volume):
        """The file holding ``volume`` (Cinder's name for it)."""
        return self._path('volume', volume['id'])

    def snapshot_path(self, snapshot):
        return self._path('snapshot', snapshot['id'])

    # Life cycle ----------------------------------------------------------
    def do_setup(self):
        """Create ``volumes_dir`` and make it private (0700)."""
        os.makedirs(self.volumes_dir, mode=0o700, exist_ok=True)
        os.chmod(self.volumes_dir, 0o700)

    # Writing -------------------------------------------------------------
    def _write(self, path, size_bytes, fill=None):
        """Write a ``size_bytes`` file at ``path``, atomically.

        :param fill: called with the open temporary file's descriptor to
            write the data; the file is then extended (sparsely) to
            ``size_bytes``.
        """
        part = path + _PART
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            try:
                os.fchmod(fd, 0o600)
                if fill is not None:
                    fill(fd)
                if os.fstat(fd).st_size < size_bytes:
                    os.ftruncate(fd, size_bytes)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(part, path)
        except BaseException:
            self._remove(part)
            raise

    def _copy_file(self, src_path, dst_path, size_bytes, what):
        try:
            src_fd = os.open(src_path, os.O_RDONLY)
        except FileNotFoundError:
            raise exception.VolumeBackendAPIException(
                data=f"{what} has no file on backend "
                     f"'{self.backend_name}'") from None
        try:
            src_size = os.fstat(src_fd).st_size
            if src_size > size_bytes:
                raise exception.InvalidVolume(
                    reason=(f'{what} ({src_size} bytes) is larger than the '
                            f'new volume ({size_bytes} bytes)'))
            self._write(dst_path, size_bytes, lambda fd: _write_chunks(
                fd, _file_chunks(src_fd, src_size)))
        finally:
            os.close(src_fd)

    @staticmethod
    def _remove(path):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    # Volumes -------------------------------------------------------------
    def create_volume(self, volume):
        """A sparse file of the volume's size: no block is written."""
        self._write(self.local_path(volume), volume['size'] * base.GiB)

    def create_volume_from_snapshot(self, volume, snapshot):
        self._copy_file(self.snapshot_path(snapshot),
                        self.local_path(volume), volume['size'] * base.GiB,
                        f"snapshot {snapshot['id']}")

    def create_cloned_volume(self, volume, src_volume):
        self._copy_file(self.local_path(src_volume),
                        self.local_path(volume), volume['size'] * base.GiB,
                        f"source volume {src_volume['id']}")

    def copy_image_to_volume(self, context, volume, image_service,
                             image_id):
        """Write the image's bytes at the start of the volume.

        The image's recorded size is checked first; the bytes read are
        counted too, so an image longer than its record is refused as well.
        """
        limit = volume['size'] * base.GiB
        what = f'image {image_id}'
        size = image_service.show(context, image_id).get('size') or 0
        if size > limit:
            raise exception.InvalidImage(
                reason=(f'{what} ({size} bytes) is larger than the volume '
                        f'({limit} bytes)'))
        try:
            stream = image_service.open(context, image_id)
        except OSError as exc:
            raise exception.InvalidImage(
                reason=f'{what} could not be read: {exc}') from exc
        with stream:
            self._write(self.local_path(volume), limit,
                        lambda fd: _write_chunks(
                            fd, _stream_chunks(stream, limit, what)))

    def delete_volume(self, volume):
        path = self.local_path(volume)
        self._remove(path + _PART)
        self._remove(path)

    def extend_volume(self, volume, new_size):
        """Grow the volume's file (sparsely) to ``new_size`` GiB.

        One ``ftruncate``: the file has its old size or the new one.
        """
        path = self.local_path(volume)
        size_bytes = new_size * base.GiB
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError:
            raise exception.VolumeBackendAPIException(
                data=f"volume {volume['id']} has no file on backend "
                     f"'{self.backend_name}'") from None
        try:
            if os.fstat(fd).st_size < size_bytes:
                os.ftruncate(fd, size_bytes)
                os.fsync(fd)
        finally:
            os.close(fd)

    # Snapshots -----------------------------------------------------------
    def create_snapshot(self, snapshot, volume):
        """Copy the volume's file to ``snapshot-<id>``."""
        self._copy_file(self.local_path(volume), self.snapshot_path(snapshot),
                        volume['size'] * base.GiB, f"volume {volume['id']}")

    def delete_snapshot(self, snapshot):
        path = self.snapshot_path(snapshot)
        self._remove(path + _PART)
        self._remove(path)

    # Stats ---------------------------------------------------------------
    def get_volume_stats(self, refresh=False):
        """Adds what the files take: apparent (provisioned) and on disk."""
        stats = super().get_volume_stats(refresh)
        provisioned = used = 0
        try:
            entries = list(os.scandir(self.volumes_dir))
        except FileNotFoundError:
            entries = []
        for entry in entries:
            if entry.name.endswith(_PART) or not entry.is_file():
                continue
            info = entry.stat()
            used += info.st_blocks * 512
            if not entry.name.startswith('snapshot-'):
                provisioned += info.st_size
        stats.update(provisioned_capacity_gb=provisioned / base.GiB,
                     used_bytes=used,
                     free_capacity_gb=(stats['total_capacity_gb'] -
                                       provisioned / base.GiB))
        return stats
