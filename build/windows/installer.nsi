; Framecast installer for Windows (built on Linux with makensis: make build-windows).
; Per-machine install into Program Files, Start menu shortcut, uninstaller,
; and a check for the WebView2 runtime the window needs.
Unicode true
!ifndef VERSION
  !define VERSION "0.0.0"
!endif
!ifndef EXE
  !define EXE "..\..\bin\windows\framecast.exe"
!endif
!ifndef OUTFILE
  !define OUTFILE "..\..\bin\windows\framecast-setup.exe"
!endif

!include "MUI2.nsh"
!include "x64.nsh"
!include "LogicLib.nsh"

Name "Framecast"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\Framecast"
InstallDirRegKey HKLM "Software\Framecast" "InstallDir"
RequestExecutionLevel admin
SetCompressor /SOLID lzma
VIProductVersion "0.0.0.0"
VIAddVersionKey "ProductName" "Framecast"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "Framecast installer"
VIAddVersionKey "LegalCopyright" "Framecast developers"

!define MUI_ICON "icon.ico"
!define MUI_UNICON "icon.ico"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_RUN "$INSTDIR\framecast.exe"
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

; The WebView2 runtime registers itself under EdgeUpdate's client key
; (per machine, or per user); its "pv" value is the installed version.
!define WV2_KEY "SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
!define WV2_USER_KEY "Software\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
!define WV2_DOWNLOAD "https://go.microsoft.com/fwlink/p/?LinkId=2124703"

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "Framecast needs 64-bit Windows 10 or later."
    Abort
  ${EndIf}
  SetRegView 64
FunctionEnd

Function CheckWebView2
  ReadRegStr $0 HKLM "${WV2_KEY}" "pv"
  ${If} $0 == ""
  ${OrIf} $0 == "0.0.0.0"
    ReadRegStr $0 HKCU "${WV2_USER_KEY}" "pv"
  ${EndIf}
  ${If} $0 == ""
  ${OrIf} $0 == "0.0.0.0"
    MessageBox MB_YESNO|MB_ICONEXCLAMATION "Framecast's window needs Microsoft's WebView2 runtime, which is not installed.$\n$\nOpen Microsoft's download page now? (Framecast is installed either way and will ask again when it starts.)" IDNO done
    ExecShell "open" "${WV2_DOWNLOAD}"
  done:
  ${EndIf}
FunctionEnd

Section "Framecast" SecMain
  SetOutPath "$INSTDIR"
  File "${EXE}"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateShortCut "$SMPROGRAMS\Framecast.lnk" "$INSTDIR\framecast.exe"
  WriteRegStr HKLM "Software\Framecast" "InstallDir" "$INSTDIR"
  WriteRegStr HKLM "Software\Microsoft\Windows\CurrentVersion\Uninstall\Framecast" "DisplayName" "Framecast"
  WriteRegStr HKLM "Software\Microsoft\Windows\CurrentVersion\Uninstall\Framecast" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "Software\Microsoft\Windows\CurrentVersion\Uninstall\Framecast" "Publisher" "Framecast developers"
  WriteRegStr HKLM "Software\Microsoft\Windows\CurrentVersion\Uninstall\Framecast" "DisplayIcon" "$INSTDIR\framecast.exe"
  WriteRegStr HKLM "Software\Microsoft\Windows\CurrentVersion\Uninstall\Framecast" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegDWORD HKLM "Software\Microsoft\Windows\CurrentVersion\Uninstall\Framecast" "NoModify" 1
  WriteRegDWORD HKLM "Software\Microsoft\Windows\CurrentVersion\Uninstall\Framecast" "NoRepair" 1
  Call CheckWebView2
SectionEnd

Section "Uninstall"
  SetRegView 64
  Delete "$INSTDIR\framecast.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\Framecast.lnk"
  DeleteRegKey HKLM "Software\Microsoft\Windows\CurrentVersion\Uninstall\Framecast"
  DeleteRegKey HKLM "Software\Framecast"
SectionEnd
