"""An independent check of the wirebook kernel with jupyter_kernel_test (Jupyter's own client and
message-schema validation). Run by test/kernel/jupyter-kernel-test.test.ts, which installs the kernelspec
into a temporary JUPYTER_DATA_DIR; by hand:

    node --require tsx/cjs kernel/install.ts        # or with JUPYTER_DATA_DIR set
    python3 -m unittest -v jupyter_kernel_test_wirebook   # with test/kernel/ on PYTHONPATH
"""

import unittest

import jupyter_kernel_test


class WirebookKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "wirebook"
    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("to stderr")'

    completion_samples = [
        {"text": "const zqxUniqueName = 1; zqxUnique", "matches": {"zqxUniqueName"}},
        {"text": "Math.PI.toFix", "matches": {"toFixed"}},
    ]

    complete_code_samples = ["1 + 1", "const a = 1;", "function f() {\n  return 1;\n}"]
    incomplete_code_samples = ["function f() {", "const xs = [1,", "if (true) {"]

    code_generate_error = 'throw new Error("generated error")'

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": '"wire" + "book"', "result": "'wirebook'"},
        {"code": "[1, 2, 3].map((x) => x * 2)", "result": "[ 2, 4, 6 ]"},
    ]

    code_display_data = [
        {
            "code": 'import { displayBundle } from "wirebook/helpers/view/display";\n'
            'displayBundle({ "text/html": "<b>bold</b>" })',
            "mime": "text/html",
        },
        {
            "code": 'import { displayBundle } from "wirebook/helpers/view/display";\n'
            'displayBundle({ "application/json": { a: 1 } })',
            "mime": "application/json",
        },
    ]

    code_history_pattern = "6 *"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "Math"

    code_clear_output = 'import { clearOutput } from "wirebook/helpers/view/display";\nclearOutput()'


if __name__ == "__main__":
    unittest.main()
