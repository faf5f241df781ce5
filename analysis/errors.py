"""The one exception type the package raises for problems a user can fix."""


class AnalysisError(Exception):
    """A problem with the user's input (a file, an option, a setting).

    The message is a single line that names the file or option and says what
    was expected; the CLI prints it as ``error: <message>`` and exits with 2.
    """
