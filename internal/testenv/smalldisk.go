package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
)

// SmallDisk mounts a tmpfs of size bytes on a new folder and returns it;
// the test's cleanup unmounts it. Mounting needs root on Linux (as in CI):
// elsewhere the test skips, or fails when tools are required.
func SmallDisk(t testing.TB, size int64) string {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		Missing(t, "root on Linux to mount a small tmpfs", "run the test as root (sudo go test ...), as CI does")
	}
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0750", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		Missing(t, "a tmpfs mount (mount -t tmpfs failed: "+string(out)+")", "run the test as root where mounting is allowed")
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			// A lazy unmount frees it once the last open file closes.
			if out2, err2 := exec.Command("umount", "-l", dir).CombinedOutput(); err2 != nil {
				t.Errorf("unmount %s: %v %s; %v %s", dir, err, out, err2, out2)
			}
		}
	})
	return dir
}

// Fill writes a file at path until the disk under it is full, and returns
// the bytes written. Removing the file frees the space.
func Fill(t testing.TB, path string) int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("fill %s: %v", filepath.Dir(path), err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	var n int64
	for {
		w, err := f.Write(buf)
		n += int64(w)
		if err != nil {
			if !isNoSpace(err) {
				t.Fatalf("fill %s: %v", filepath.Dir(path), err)
			}
			break
		}
	}
	// Smaller writes take what is left of the last block.
	for _, size := range []int{4096, 512, 1} {
		for {
			w, err := f.Write(buf[:size])
			n += int64(w)
			if err != nil {
				break
			}
		}
	}
	return n
}

func isNoSpace(err error) bool { return errors.Is(err, syscall.ENOSPC) }
