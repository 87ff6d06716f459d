"""structlog set-up shared by every entrypoint: key-value lines on stderr, stdout stays for results. What a
process binds (a worker's name, the job a task runs: structlog.contextvars) goes on each of its lines."""

import logging
import sys

import structlog


def configure_logging(level: str = "warning", **on_every_line: str) -> None:
    """on_every_line: key-values every line of this process carries (a worker's name), from every thread."""
    numeric = logging.getLevelNamesMapping()[level.upper()]

    def add_process_values(_logger, _method, event_dict):
        for key, value in on_every_line.items():
            event_dict.setdefault(key, value)
        return event_dict

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            add_process_values,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.dev.ConsoleRenderer(colors=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
