// xaccel: the settings a first visit need not validate (read by xaccel-settings-memo.js).
// In lite/page this is empty; lite/build replaces the site's copy with what
// lite/settings_seed.js found in the built site (a site built without Chromium keeps it
// empty: a first visit then validates every plugin's settings, as JupyterLab does).
self.xaccelSettingsSeed = null;
