"""A framework file that does not decode is explained in the reader's words."""

import pytest
from django.utils import translation

from courses.frameworks_io import FrameworkFileError, parse_file


def test_a_json_syntax_error_gives_its_line_and_column_without_the_parsers_english():
    text = '{\n  code: "RS5142"\n}'  # a name without double quotes

    with translation.override("en"):
        with pytest.raises(FrameworkFileError) as error:
            parse_file("broken.json", text.encode())
        [problem] = error.value.problems
        shown = str(problem)

    assert shown.startswith("line 2: ") and "column 3" in shown
    assert "quotes" in shown and "commas" in shown
    # Python's parser speaks English whatever the reader's language.
    assert "Expecting" not in shown and "enclosed" not in shown
