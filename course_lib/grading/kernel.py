"""Kernel launcher for the grader: caps the kernel's memory, then starts an ordinary IPython kernel.

    python -m course_lib.grading.kernel MEMORY_MB -f CONNECTION_FILE

The address-space limit makes a runaway allocation fail with MemoryError inside the learner's kernel
instead of exhausting the machine.
"""
import resource
import sys


def main():
    limit = int(sys.argv[1]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sys.argv = [sys.argv[0]] + sys.argv[2:]
    from ipykernel import kernelapp
    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
