"""Every error Rilievo raises on purpose. Entrypoints map these to exit codes and HTTP statuses."""


class RilievoError(Exception):
    """Base of Rilievo's own errors; the message is one line a user can act on."""


class InvalidParameter(RilievoError):
    """A parameter is unknown or outside its valid range."""


class ImageRejected(RilievoError):
    """An input file is not an image Rilievo accepts (wrong kind, truncated, empty, too large)."""


class IllegalTransition(RilievoError):
    """A job was asked to move to a state its current state cannot reach."""


class NotFound(RilievoError):
    """An id names nothing that exists."""


class JobNotFound(NotFound):
    pass


class UploadNotFound(NotFound):
    pass


class PresetNotFound(NotFound):
    pass


class FileNotFound(NotFound):
    """A job has no output file of that name."""


class Conflict(RilievoError):
    """The request clashes with the current state (a name taken, a job still running)."""


class JobChanged(Conflict):
    """The stored job changed under us (e.g. it was cancelled while a worker ran it)."""


class DepthEstimationFailed(RilievoError):
    pass


class SegmentationFailed(RilievoError):
    pass


class LayersFailed(RilievoError):
    """The layers could not be shaped from the inputs they were given (a layer map that does not fit the
    photo, say)."""


class StorageUnavailable(RilievoError):
    """The storage can't be used: its folder is gone, replaced, read-only or can't be written."""


class StorageFull(StorageUnavailable):
    """The disk that holds the storage or an output folder is full."""
