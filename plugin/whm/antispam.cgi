#!/usr/local/cpanel/3rdparty/bin/perl
#
# WHM page shim of the anti-spam policy plugin.
# Installed as /usr/local/cpanel/whostmgr/docroot/cgi/addons/antispam/index.cgi (mode 0700, root),
# registered through the AppConfig plugin/whm/antispam.conf (user=root, acls=list-accts,all).
#
# cpsrvd authenticates the WHM session before it runs this CGI and puts the login in REMOTE_USER.
# The shim works out the role, mints a 60-second HMAC-signed SSO token and redirects the browser
# to <app_url>/sso?token=...&embedded=1. It never trusts anything the browser sends.
#
#   REMOTE_USER=root                                  -> role admin
#   a reseller whose privileges include "all"         -> role admin (root-level reseller)
#   a reseller with "list-accts" (List Accounts)      -> role reseller
#   anyone else, a missing REMOTE_USER, or a session authenticated with a WHM API token
#   (WHM_API_TOKEN_NAME set)                          -> an error page, no redirect
#
# Privileges are read from <root>/var/cpanel/resellers ("user:acl1,acl2,..." lines).

use strict;
use warnings;

use FindBin ();

BEGIN {
    my $root = $ENV{ANTISPAM_ROOT};
    $root = '/' if !defined $root || $root eq '';
    $root =~ s{/+\z}{};
    unshift @INC, "$root/usr/local/cpanel/3rdparty/antispam/lib", "$FindBin::RealBin/../lib";
}

use AntispamPlugin ();

binmode STDOUT;
print respond();
exit 0;

sub respond {
    if ( my $page = AntispamPlugin::method_error() ) { return $page }

    my $user = lc( $ENV{REMOTE_USER} // '' );
    if ( $user eq '' ) {
        return AntispamPlugin::cgi_error( 403, 'Not signed in to WHM',
            'This page must be opened from WHM: the panel did not say who is signed in (REMOTE_USER is not set).' );
    }
    if ( defined $ENV{WHM_API_TOKEN_NAME} && $ENV{WHM_API_TOKEN_NAME} ne '' ) {
        return AntispamPlugin::cgi_error( 403, 'API tokens cannot open the app',
            'This request was authenticated with a WHM API token. Sign in to WHM with a password to open Anti-Spam Policy; API clients use the app\'s JSON API instead.' );
    }
    if ( !AntispamPlugin::valid_username($user) ) {
        return AntispamPlugin::cgi_error( 403, 'Unsupported user name', 'The signed-in WHM user name is not one this plugin accepts.' );
    }

    my $role;
    if ( $user eq 'root' ) {
        $role = 'admin';
    }
    else {
        my $acls = eval { AntispamPlugin::reseller_acls($user) };
        if ( my $err = $@ ) {
            return AntispamPlugin::cgi_error( 500, 'Reseller privileges unreadable',
                "The plugin could not check the privileges of $user: " . ( $err =~ s/\s+\z//r ) );
        }
        my %has = map { $_ => 1 } @{ $acls // [] };
        if ( !$acls ) {
            return AntispamPlugin::cgi_error( 403, 'Not a reseller', "The WHM user $user is not listed as a reseller on this server." );
        }
        elsif ( $has{all} ) {
            $role = 'admin';
        }
        elsif ( $has{'list-accts'} ) {
            $role = 'reseller';
        }
        else {
            return AntispamPlugin::cgi_error( 403, 'Privilege missing',
                "The reseller $user needs the \"List Accounts\" (list-accts) privilege to use Anti-Spam Policy. Ask the server administrator." );
        }
    }

    my $url = eval { AntispamPlugin::sso_url_for( $user, $role ) };
    if ( my $err = $@ ) {
        return AntispamPlugin::cgi_error( 500, 'Plugin not configured',
            "The sign-in link could not be made: " . ( $err =~ s/\s+\z//r ) . ". Run the plugin's install.sh again, or check /etc/antispam-plugin/." );
    }
    return AntispamPlugin::cgi_redirect($url);
}
