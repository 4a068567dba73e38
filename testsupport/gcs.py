"""Google Cloud Storage on loopback: ``gcp-storage-emulator``, in memory, in a thread.

The real ``google-cloud-storage`` client reaches it through ``STORAGE_EMULATOR_HOST`` (which
also makes it use anonymous credentials); django-storages builds public links under
``GS_CUSTOM_ENDPOINT``, which the emulator serves at ``/<bucket>/<object>`` like the real one.
"""

from __future__ import annotations

from typing import Any

from testsupport.smtp import free_port

BUCKET = "m2s-test-media"


class GCSEmulator:
    def __init__(self, bucket: str = BUCKET) -> None:
        from gcp_storage_emulator.server import create_server

        self.bucket = bucket
        self.port = free_port()
        self.server = create_server("127.0.0.1", self.port, in_memory=True, default_bucket=bucket)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> GCSEmulator:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def env(self) -> dict[str, str]:
        """The environment of a manage.py process whose default storage is this bucket."""
        return {
            "STORAGE_EMULATOR_HOST": self.url,
            "GS_BUCKET_NAME": self.bucket,
            "GS_PROJECT_ID": "m2s-test",
            "GS_CUSTOM_ENDPOINT": f"{self.url}/{self.bucket}",
        }

    def storages(self, staticfiles: Any) -> dict[str, Any]:
        """The STORAGES setting the settings module builds from ``env()`` (for in-process tests)."""
        return {
            "default": {
                "BACKEND": "storages.backends.gcloud.GoogleCloudStorage",
                "OPTIONS": {
                    "bucket_name": self.bucket,
                    "project_id": "m2s-test",
                    "location": "",
                    "querystring_auth": False,
                    "default_acl": None,
                    "custom_endpoint": f"{self.url}/{self.bucket}",
                    "file_overwrite": False,
                },
            },
            "staticfiles": staticfiles,
        }

    def objects(self) -> dict[str, bytes]:
        """Every object in the bucket, read back through the real client."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        client = storage.Client(project="m2s-test", credentials=AnonymousCredentials(),
                                client_options={"api_endpoint": self.url})  # fmt: skip
        return {blob.name: blob.download_as_bytes() for blob in client.list_blobs(self.bucket)}
