package project

import (
	"errors"
	"os"
	"path/filepath"
)

// loadEnvFiles reads env_files (default .env). A missing default .env is
// fine; a missing file the config lists is an error.
func (d *detector) loadEnvFiles() error {
	files, explicit := DefaultEnvFiles, false
	if d.cfg.EnvFiles != nil {
		files, explicit = *d.cfg.EnvFiles, true
	}
	for _, f := range files {
		full := f
		if !filepath.IsAbs(f) {
			full = filepath.Join(d.dir, f)
		}
		data, err := os.ReadFile(full)
		if errors.Is(err, os.ErrNotExist) && !explicit {
			continue
		}
		if err != nil {
			return &Error{Msg: "reading env file " + f, Err: err,
				Fix: "create " + f + " or remove it from env_files in " + d.cfg.Display}
		}
		vars, err := parseDotenv(relTo(d.dir, full), string(data), func(k string) (string, bool) {
			if v, ok := d.env[k]; ok {
				return v, true
			}
			return d.dotenvValue(k) // from an earlier file
		})
		if err != nil {
			return err
		}
		d.dotenv = append(d.dotenv, vars...)
		d.p.EnvFiles = append(d.p.EnvFiles, full)
	}
	return nil
}

// loadAppDirEnv reads the .env of an app directory one level down (a
// Django project in backend/), after the project's own, when the config
// does not list env files: that is the file the app's settings read.
func (d *detector) loadAppDirEnv(appDir string) error {
	if d.cfg.EnvFiles != nil {
		return nil
	}
	full := filepath.Join(appDir, ".env")
	data, err := os.ReadFile(full)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &Error{Msg: "reading env file " + relTo(d.dir, full), Err: err, Fix: "make it readable"}
	}
	vars, err := parseDotenv(relTo(d.dir, full), string(data), func(k string) (string, bool) {
		if v, ok := d.env[k]; ok {
			return v, true
		}
		return d.dotenvValue(k)
	})
	if err != nil {
		return err
	}
	d.dotenv = append(d.dotenv, vars...)
	d.p.EnvFiles = append(d.p.EnvFiles, full)
	return nil
}

// dotenvValue is the last value an env file gives key.
func (d *detector) dotenvValue(key string) (string, bool) {
	for i := len(d.dotenv) - 1; i >= 0; i-- {
		if d.dotenv[i].Key == key {
			return d.dotenv[i].Value, true
		}
	}
	return "", false
}

// probeEnviron is devstack's environment with the env files under it, as
// the children will see it.
func (d *detector) probeEnviron() []string {
	env := append([]string{}, d.environ...)
	for _, v := range d.dotenv {
		if _, set := d.env[v.Key]; !set {
			env = append(env, v.Key+"="+v.Value)
		}
	}
	return env
}

// childEnv builds Project.Env: env-file variables devstack's environment does
// not already set, then devstack's additions.
func (d *detector) childEnv() {
	p := d.p
	var env []string
	index := map[string]int{}
	set := func(k, v string) {
		if i, ok := index[k]; ok {
			env[i] = k + "=" + v
			return
		}
		index[k] = len(env)
		env = append(env, k+"="+v)
	}
	for _, v := range d.dotenv {
		if _, inEnviron := d.env[v.Key]; !inEnviron {
			set(v.Key, v.Value)
		}
	}
	set("PYTHONUNBUFFERED", "1")
	if p.SettingsModule != "" {
		set("DJANGO_SETTINGS_MODULE", p.SettingsModule)
	}
	if v := p.Interpreter.Venv; v != "" && d.env["VIRTUAL_ENV"] != v {
		// As "activate" does, so that commands of the venv (celery,
		// npm-installed tools aside) run from Procfile.dev.
		set("VIRTUAL_ENV", v)
		path := filepath.Join(v, "bin")
		if old := d.env["PATH"]; old != "" {
			path += string(filepath.ListSeparator) + old
		}
		set("PATH", path)
	}
	p.Env = env
}
