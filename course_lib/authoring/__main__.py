import sys

from course_lib.authoring.execute import main

sys.exit(main())
