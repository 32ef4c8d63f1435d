"""`python -m course_lib.grade`: the grader's command line, kept at this short address. The grader itself
lives in `course_lib/grading/` (`grading/grade.py`)."""
import sys

from course_lib.grading.grade import main

if __name__ == "__main__":
    sys.exit(main())
