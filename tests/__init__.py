import pytest

# The helpers' asserts explain a failure as a test's own do (a module a test imports is not rewritten
# unless named here, before it is imported).
pytest.register_assert_rewrite("tests.support")
