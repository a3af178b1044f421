package project

import (
	"cmp"
	"errors"
	"os"
	"path/filepath"
	"sort"
)

// envPlan is what the children's environment is built from: kept in the
// Project so that ReadEnv can build it again for every restart.
type envPlan struct {
	environ  []string // devstack's own environment
	files    []string // absolute env files, in order, existing or not
	required int      // the first required files (listed in env_files) in files
	// settingsFromFile is true when DJANGO_SETTINGS_MODULE was taken from
	// an env file: an edit there then changes it.
	settingsFromFile bool
}

// envFilesFor lists the env files of a project: env_files (default .env),
// then the .env of an app directory one level down when env_files is not
// set (that is the file the app's settings read).
func envFilesFor(dir, appDir string, cfg *loadedConfig) (files []string, required int) {
	names := DefaultEnvFiles
	if cfg.EnvFiles != nil {
		names, required = *cfg.EnvFiles, len(*cfg.EnvFiles)
	}
	for _, f := range names {
		if !filepath.IsAbs(f) {
			f = filepath.Join(dir, f)
		}
		files = append(files, f)
	}
	if cfg.EnvFiles == nil && appDir != dir {
		files = append(files, filepath.Join(appDir, ".env"))
	}
	return files, required
}

// readEnvFiles reads files in order; a later file's ${VAR} sees the
// environment, then the earlier files. Missing files are skipped unless
// they are among the first required ones. It returns the variables, the
// files that were read and the lines that were skipped (see parseDotenv);
// only a file that cannot be read is an error.
func readEnvFiles(dir string, files []string, required int, env map[string]string, configDisplay string) ([]envVar, []string, []string, error) {
	var vars []envVar
	var read, warnings []string
	last := func(key string) (string, bool) {
		for i := len(vars) - 1; i >= 0; i-- {
			if vars[i].Key == key {
				return vars[i].Value, true
			}
		}
		return "", false
	}
	for i, full := range files {
		data, err := os.ReadFile(full)
		if errors.Is(err, os.ErrNotExist) && i >= required {
			continue
		}
		name := relTo(dir, full)
		if err != nil {
			return nil, nil, nil, &Error{Msg: "reading env file " + name, Err: err,
				Fix: "create " + name + " or remove it from env_files in " + configDisplay}
		}
		fv, skipped := parseDotenv(name, string(data), func(k string) (string, bool) {
			if v, ok := env[k]; ok {
				return v, true
			}
			return last(k) // from an earlier file
		})
		for _, w := range skipped {
			warnings = append(warnings, w.String())
		}
		vars = append(vars, fv...)
		read = append(read, full)
	}
	return vars, read, warnings, nil
}

// loadEnvFiles reads the project's env files (see envFilesFor).
func (d *detector) loadEnvFiles() error {
	return d.loadEnvFilesFor(d.dir)
}

// loadAppDirEnv reads the env files again once the app was found one
// level down, so that its own .env counts.
func (d *detector) loadAppDirEnv(appDir string) error {
	d.dotenv, d.p.EnvFiles = nil, nil
	return d.loadEnvFilesFor(appDir)
}

func (d *detector) loadEnvFilesFor(appDir string) error {
	files, required := envFilesFor(d.dir, appDir, d.cfg)
	vars, read, warnings, err := readEnvFiles(d.dir, files, required, d.env, cmp.Or(d.cfg.Display, ConfigFileName))
	if err != nil {
		return err
	}
	d.dotenv, d.p.EnvFiles, d.envWarnings = vars, read, warnings
	d.plan = envPlan{environ: d.environ, files: files, required: required}
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

// inspectEnviron is devstack's environment with the env files under it, as
// the children will see it.
func (d *detector) inspectEnviron() []string {
	env := append([]string{}, d.environ...)
	for _, v := range d.dotenv {
		if _, set := d.env[v.Key]; !set {
			env = append(env, v.Key+"="+v.Value)
		}
	}
	return env
}

// childEnv builds Project.Env (see buildEnv) and keeps the plan for ReadEnv.
func (d *detector) childEnv() {
	d.plan.settingsFromFile = d.settingsChoice().source == "env file"
	d.p.Env = buildEnv(d.p, d.env, d.dotenv, d.cfg.Env, d.plan.settingsFromFile)
	d.p.envPlan = d.plan
}

// buildEnv is the children's environment: the env-file variables, then the
// config's env over them, leaving out what devstack's environment already
// sets (it wins), then devstack's additions.
func buildEnv(p *Project, environ map[string]string, dotenv []envVar, configEnv map[string]string, settingsFromFile bool) []string {
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
	for _, v := range dotenv {
		if _, inEnviron := environ[v.Key]; !inEnviron {
			set(v.Key, v.Value)
		}
	}
	for _, k := range sortedKeys(configEnv) {
		if _, inEnviron := environ[k]; !inEnviron {
			set(k, configEnv[k])
		}
	}
	set("PYTHONUNBUFFERED", "1")
	if p.SettingsModule != "" {
		settings := p.SettingsModule
		if settingsFromFile {
			// The env file chose it: an edit there chooses again.
			for _, v := range dotenv {
				if v.Key == "DJANGO_SETTINGS_MODULE" && v.Value != "" {
					settings = v.Value
				}
			}
		}
		set("DJANGO_SETTINGS_MODULE", settings)
	}
	if v := p.Interpreter.Venv; v != "" && environ["VIRTUAL_ENV"] != v {
		// As "activate" does, so that commands of the venv (celery,
		// npm-installed tools aside) run from Procfile.dev.
		set("VIRTUAL_ENV", v)
		path := filepath.Join(v, "bin")
		if old := environ["PATH"]; old != "" {
			path += string(filepath.ListSeparator) + old
		}
		set("PATH", path)
	}
	return env
}

// ReadEnv reads the env files and the config's env again, as Detect did,
// and returns the children's environment and the names of the variables
// that differ from p.Env (added, removed or changed), sorted, with the
// env-file lines it skipped (as Detect puts them in Warnings). devstack
// calls it before every restart, so that an edit to .env takes effect.
// A configuration that no longer loads, or an env file that cannot be
// read, is an error; the caller keeps p.Env then.
func ReadEnv(p *Project) (env, changed, warnings []string, err error) {
	cfg, err := loadConfig(p.Dir)
	if err != nil {
		return nil, nil, nil, err
	}
	plan := p.envPlan
	environ := envMap(plan.environ)
	vars, _, warnings, err := readEnvFiles(p.Dir, plan.files, plan.required, environ, cmp.Or(cfg.Display, ConfigFileName))
	if err != nil {
		return nil, nil, nil, err
	}
	env = buildEnv(p, environ, vars, cfg.Env, plan.settingsFromFile)
	return env, ChangedEnvNames(p.Env, env), warnings, nil
}

// EnvFilesWatched are the env files whose change (or creation) restarts the
// gateway: the ones read, and a default .env that does not exist yet.
func (p *Project) EnvFilesWatched() []string {
	if p.envPlan.files == nil {
		return p.EnvFiles
	}
	return p.envPlan.files
}

// ChangedEnvNames lists, sorted, the variables that differ between two
// environments (KEY=VALUE lists, later entries win): names only, since
// values may be secrets.
func ChangedEnvNames(before, after []string) []string {
	a, b := envMap(before), envMap(after)
	var names []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			names = append(names, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}
