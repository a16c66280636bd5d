#!/usr/bin/perl
#
# Writes the 48x48 WHM plugin icon (plugin/whm/antispam.png): a blue rounded square with a white
# envelope and a red "no" sign, the same picture as plugin/cpanel/antispam.svg.
# Core Perl only (Compress::Zlib for the zlib stream and CRC-32). The PNG is committed; rerun this
# only to change it:   perl plugin/tools/make-icon.pl plugin/whm/antispam.png

use strict;
use warnings;

use Compress::Zlib ();

my $out  = shift // 'antispam.png';
my $size = 48;

my @blue  = ( 0x1f, 0x5f, 0xa6 );
my @white = ( 0xff, 0xff, 0xff );
my @red   = ( 0xd9, 0x26, 0x2c );

sub inside_rounded {
    my ( $x, $y, $x0, $y0, $x1, $y1, $r ) = @_;
    return 0 if $x < $x0 || $x > $x1 || $y < $y0 || $y > $y1;
    my $cx = $x < $x0 + $r ? $x0 + $r : $x > $x1 - $r ? $x1 - $r : $x;
    my $cy = $y < $y0 + $r ? $y0 + $r : $y > $y1 - $r ? $y1 - $r : $y;
    return ( ( $x - $cx )**2 + ( $y - $cy )**2 ) <= $r * $r;
}

sub dist_to_segment {
    my ( $px, $py, $ax, $ay, $bx, $by ) = @_;
    my ( $dx, $dy ) = ( $bx - $ax, $by - $ay );
    my $t = ( ( $px - $ax ) * $dx + ( $py - $ay ) * $dy ) / ( $dx * $dx + $dy * $dy );
    $t = 0 if $t < 0;
    $t = 1 if $t > 1;
    return sqrt( ( $px - ( $ax + $t * $dx ) )**2 + ( $py - ( $ay + $t * $dy ) )**2 );
}

sub pixel {
    my ( $x, $y ) = @_;
    ( $x, $y ) = ( $x + 0.5, $y + 0.5 );
    my $d = sqrt( ( $x - 35 )**2 + ( $y - 34 )**2 );    # "no" sign
    return ( @red, 255 ) if abs( $d - 9 ) <= 1.5;
    return ( @red, 255 ) if $d < 9 && dist_to_segment( $x, $y, 29, 40, 41, 28 ) <= 1.5;
    return ( @white, 255 ) if $d < 9;
    if ( inside_rounded( $x, $y, 9, 14, 39, 35, 2 ) ) {    # envelope with its flap
        return ( @blue, 255 ) if dist_to_segment( $x, $y, 9, 15, 24, 27 ) <= 1.25 || dist_to_segment( $x, $y, 24, 27, 39, 15 ) <= 1.25;
        return ( @white, 255 );
    }
    return ( @blue, 255 ) if inside_rounded( $x, $y, 2, 2, 46, 46, 8 );
    return ( 0, 0, 0, 0 );
}

my $raw = '';
for my $y ( 0 .. $size - 1 ) {
    $raw .= "\0";    # filter type: none
    $raw .= pack( 'C4', pixel( $_, $y ) ) for 0 .. $size - 1;
}

sub chunk {
    my ( $type, $data ) = @_;
    return pack( 'N', length $data ) . $type . $data . pack( 'N', Compress::Zlib::crc32( $type . $data ) );
}

my $png = "\x89PNG\r\n\x1a\n"
  . chunk( 'IHDR', pack( 'NNCCCCC', $size, $size, 8, 6, 0, 0, 0 ) )    # 8-bit RGBA
  . chunk( 'IDAT', Compress::Zlib::compress( $raw, 9 ) )
  . chunk( 'IEND', '' );

open( my $fh, '>:raw', $out ) or die "cannot write $out: $!\n";
print {$fh} $png;
close $fh or die "cannot write $out: $!\n";
print "wrote $out (", length $png, " bytes)\n";
