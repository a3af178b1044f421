// Package procattr gives the process attributes that test and benchmark
// helpers start their servers with, on every OS devstack builds for.
package procattr
