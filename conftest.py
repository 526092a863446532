import os

# Tests run with throwaway settings; production refuses to start without a real SECRET_KEY.
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("TESTING", "1")
